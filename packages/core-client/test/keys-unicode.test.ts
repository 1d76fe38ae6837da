/**
 * Keys from ill-formed Unicode: a lone UTF-16 surrogate has no UTF-8 encoding,
 * so Node writes U+FFFD for it and two different ids would share one Redis key.
 * The key builder refuses such strings (E_KEY); everything else keeps distinct
 * tuples on distinct keys, compared as the UTF-8 bytes Redis receives.
 */
import { redisTest } from '@stratacache/test-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertWellFormed, createKeyBuilder, escapeGlob, type KeyPart } from '../src/index.js';
import { HashTag } from '../src/keys.js';

const keys = createKeyBuilder({ prefix: 'strata', namespace: 'app', maxLength: 4096 });

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
/** Few distinct units, so that colliding tuples come up often if the builder could collide. */
const unit = fc.oneof(
  loneSurrogate,
  fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFFFD', '\uD83D\uDE00', 'x', ''),
  fc.constantFrom('*', '?', '[', ']', '{', '}', ':', '%', '\\', '%3A', '%25', '%7B', '.', ' '),
  fc.string({ unit: 'binary', maxLength: 2 }),
);
const shortText = fc.array(unit, { maxLength: 5 }).map((units) => units.join(''));
const longText = fc.array(unit, { minLength: 200, maxLength: 1500 }).map((units) => units.join(''));
const part: fc.Arbitrary<KeyPart> = fc.oneof(
  { weight: 6, arbitrary: shortText },
  { weight: 1, arbitrary: longText },
  { weight: 1, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
  { weight: 1, arbitrary: shortText.map((t) => new HashTag(t)) },
);
const tuple = fc.array(part, { minLength: 1, maxLength: 4 });

/** What a tuple means: numbers are written in decimal, so 1 and '1' are documented as one id. */
function identity(parts: readonly KeyPart[]): string {
  return JSON.stringify(parts.map((p) => (p instanceof HashTag ? ['tag', p.value] : String(p))));
}

const isWellFormed = (text: string) =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

describe('keys from ill-formed Unicode', () => {
  it('no two distinct tuples give the same Redis key (UTF-8 bytes), or the builder says E_KEY', () => {
    fc.assert(
      fc.property(fc.array(tuple, { minLength: 2, maxLength: 40 }), (tuples) => {
        const byBytes = new Map<string, string>();
        for (const parts of tuples) {
          let key: string;
          try {
            key = keys.key('k', ...parts);
          } catch (error) {
            expect(error).toMatchObject({ code: 'E_KEY' });
            continue;
          }
          const bytes = Buffer.from(key, 'utf8').toString('hex');
          const seen = byBytes.get(bytes);
          if (seen !== undefined) expect(seen).toBe(identity(parts));
          byBytes.set(bytes, identity(parts));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses exactly the tuples holding a lone surrogate, and builds every other one', () => {
    fc.assert(
      fc.property(tuple, (parts) => {
        const illFormed = parts.some((p) => !isWellFormed(p instanceof HashTag ? p.value : String(p)));
        let code: string | undefined;
        try {
          keys.key('k', ...parts);
        } catch (error) {
          code = (error as { code?: string }).code;
        }
        if (illFormed) expect(code).toBe('E_KEY');
        // A well-formed tuple fails only for its length (or an empty hash tag, which HashTag allows here).
        else if (code !== undefined) expect(code).toBe('E_KEY');
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses the ids of the issue, which used to share one key', () => {
    for (const id of ['\uD800', '\uDBFF', 'x\uDC00', '\uDC00\uD800']) {
      expect(() => keys.key('user', id), JSON.stringify(id)).toThrowError(
        expect.objectContaining({ code: 'E_KEY', message: expect.stringMatching(/lone UTF-16 surrogate at index/) }),
      );
    }
    // The well-formed neighbours still work, and stay apart.
    expect(keys.key('user', 'x\uFFFD')).not.toBe(keys.key('user', 'x'));
    expect(keys.key('user', '\uD83D\uDE00')).toBe('strata:app:user:\uD83D\uDE00');
    // Ids from a request body: "\ud800" is valid JSON.
    const { id } = JSON.parse('{"id":"\\ud800"}') as { id: string };
    expect(() => keys.key('user', id)).toThrowError(expect.objectContaining({ code: 'E_KEY' }));
  });

  it('checks hash tags, SCAN patterns and globs too', () => {
    expect(() => keys.key('k', keys.tag('\uDFFF'))).toThrowError(expect.objectContaining({ code: 'E_KEY' }));
    expect(() => keys.under('k', '\uD800')).toThrowError(expect.objectContaining({ code: 'E_KEY' }));
    expect(() => keys.glob('k', 'a\uD800*')).toThrowError(expect.objectContaining({ code: 'E_KEY' }));
    expect(() => escapeGlob('\uDC00')).toThrowError(expect.objectContaining({ code: 'E_KEY' }));
  });

  it('assertWellFormed names the input and the position, and returns well-formed text', () => {
    expect(assertWellFormed('ok \uD83D\uDE00', 'id')).toBe('ok \uD83D\uDE00');
    expect(() => assertWellFormed('ab\uD800', 'id')).toThrowError(/^id holds a lone UTF-16 surrogate at index 2/);
  });
});

describe('against a real Redis', () => {
  redisTest('two ids that UTF-8 would merge can no longer overwrite each other', async ({ redis, ns }) => {
    const k = createKeyBuilder({ prefix: ns.replace(/\./g, '-'), namespace: 'app' });
    // What used to happen: both JS strings reach Redis as the same bytes.
    await redis.set(`${ns}:raw:\uD800`, 'first');
    await redis.set(`${ns}:raw:\uDBFF`, 'second');
    expect(await redis.get(`${ns}:raw:\uD800`)).toBe('second');
    // Through the key builder the second id is refused before it can touch the first one's key.
    await redis.set(k.key('user', 'x\uFFFD'), 'kept');
    expect(() => k.key('user', 'x\uDC00')).toThrowError(expect.objectContaining({ code: 'E_KEY' }));
    expect(await redis.get(k.key('user', 'x\uFFFD'))).toBe('kept');
    await redis.unlink(k.key('user', 'x\uFFFD'));
  });
});
