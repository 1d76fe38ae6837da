import { redisTest } from '@stratacache/test-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/hash.js';
import { createKeyBuilder, escapeGlob, hashParams, KeyError } from '../src/index.js';

/** Redis's glob semantics (stringmatchlen): * ? [set] [^set] [a-z] and \ escapes. */
function redisGlobMatch(pattern: string, text: string): boolean {
  const match = (p: number, t: number): boolean => {
    while (p < pattern.length) {
      const c = pattern[p] as string;
      if (c === '*') {
        while (pattern[p + 1] === '*') p++;
        if (p + 1 === pattern.length) return true;
        for (let i = t; i <= text.length; i++) if (match(p + 1, i)) return true;
        return false;
      }
      if (t >= text.length) return false;
      if (c === '?') {
        p++;
        t++;
        continue;
      }
      if (c === '[') {
        let q = p + 1;
        const negate = pattern[q] === '^';
        if (negate) q++;
        let matched = false;
        while (q < pattern.length && pattern[q] !== ']') {
          if (pattern[q] === '\\' && q + 1 < pattern.length) {
            q++;
            if (pattern[q] === text[t]) matched = true;
          } else if (pattern[q + 1] === '-' && q + 2 < pattern.length && pattern[q + 2] !== ']') {
            const lo = pattern[q] as string;
            const hi = pattern[q + 2] as string;
            const ch = text[t] as string;
            if ((lo <= ch && ch <= hi) || (hi <= ch && ch <= lo)) matched = true;
            q += 2;
          } else if (pattern[q] === text[t]) matched = true;
          q++;
        }
        if (negate) matched = !matched;
        if (!matched) return false;
        p = q + 1;
        t++;
        continue;
      }
      if (c === '\\' && p + 1 < pattern.length) p++;
      if (pattern[p] !== text[t]) return false;
      p++;
      t++;
    }
    return t === text.length;
  };
  return match(0, 0);
}

const keys = createKeyBuilder({ prefix: 'strata', namespace: 'app' });
const idPart = fc.string({ unit: 'grapheme', maxLength: 12 });
const hostilePart = fc.oneof(idPart, fc.constantFrom('*', '?', '[a-z]', '\\', ':', '{x}', '%3A', '%', '', ':*', '\\*'));

describe('key builder', () => {
  it('builds {prefix}:{namespace}:{kind}:{id}', () => {
    expect(keys.key('user', 42)).toBe('strata:app:user:42');
    expect(keys.key('user', 'a:b', 'c')).toBe('strata:app:user:a%3Ab:c');
    expect(keys.child('cache').key('data', 'x')).toBe('strata:app.cache:data:x');
    expect(keys.key('sess', keys.tag('u:1'), 'index')).toBe('strata:app:sess:{u%3A1}:index');
  });

  it('never maps distinct id parts to the same key', () => {
    fc.assert(
      fc.property(
        fc.array(hostilePart, { minLength: 1, maxLength: 4 }),
        fc.array(hostilePart, { minLength: 1, maxLength: 4 }),
        (a, b) => {
          fc.pre(JSON.stringify(a) !== JSON.stringify(b));
          expect(keys.key('k', ...a)).not.toBe(keys.key('k', ...b));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never lets a user part open a hash tag', () => {
    fc.assert(
      fc.property(fc.array(hostilePart, { minLength: 1, maxLength: 4 }), (parts) => {
        const key = keys.key('k', ...parts);
        expect(key).not.toMatch(/[{}]/);
      }),
    );
  });

  it('makes patterns that a user part can never widen', () => {
    fc.assert(
      fc.property(hostilePart, hostilePart, hostilePart, (a, b, tail) => {
        const exact = keys.exact('k', a);
        const under = keys.under('k', a);
        // The exact pattern matches its own key and no other.
        expect(redisGlobMatch(exact, keys.key('k', a))).toBe(true);
        if (a !== b) expect(redisGlobMatch(exact, keys.key('k', b))).toBe(false);
        // The "under" pattern matches the keys below `a`, and none below a different `b`.
        expect(redisGlobMatch(under, keys.key('k', a, tail))).toBe(true);
        if (a !== b) expect(redisGlobMatch(under, keys.key('k', b, tail))).toBe(false);
        expect(redisGlobMatch(under, keys.key('other', a, tail))).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('escapes every glob character', () => {
    expect(escapeGlob('a*b?c[d]e\\f')).toBe('a\\*b\\?c\\[d\\]e\\\\f');
    expect(redisGlobMatch(escapeGlob('a*'), 'a*')).toBe(true);
    expect(redisGlobMatch(escapeGlob('a*'), 'abc')).toBe(false);
  });

  it('refuses bad names and keys over maxKeyLength', () => {
    expect(() => keys.key('has:colon', 'x')).toThrowError(KeyError);
    expect(() => keys.key('kind')).toThrowError(/at least one id part/);
    expect(() => createKeyBuilder({ namespace: 'a:b' })).toThrowError(/namespace/);
    expect(() => keys.child('x*')).toThrowError(KeyError);
    const short = createKeyBuilder({ namespace: 'n', maxLength: 80 });
    expect(() => short.key('k', 'x'.repeat(100))).toThrowError(/maxKeyLength \(80\)/);
    expect(short.hashed('q', { id: 'x'.repeat(100) })).toHaveLength('strata:n:q:'.length + 64);
  });
});

describe('parameter hashing', () => {
  it('is deterministic whatever the key order, and sensitive to values', () => {
    expect(hashParams({ b: 2, a: [1, { d: 4, c: 3 }] })).toBe(hashParams({ a: [1, { c: 3, d: 4 }], b: 2 }));
    expect(hashParams({ a: 1 })).not.toBe(hashParams({ a: '1' }));
    expect(hashParams([1, 2])).not.toBe(hashParams([2, 1]));
    expect(hashParams({ n: '10' })).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalJson({ z: 1, a: { y: 2, b: 3 } })).toBe('{"a":{"b":3,"y":2},"z":1}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => hashParams(cyclic)).toThrowError(KeyError);
    expect(() => hashParams(undefined)).toThrowError(KeyError);
  });

  it('gives distinct hashes to distinct JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        fc.pre(canonicalJson(a) !== canonicalJson(b));
        expect(hashParams(a)).not.toBe(hashParams(b));
      }),
      { numRuns: 500 },
    );
  });
});

describe('patterns against a real Redis', () => {
  redisTest('SCAN with a pattern built from hostile parts finds exactly its keys', async ({ redis, ns }) => {
    const k = createKeyBuilder({ prefix: ns.replace(/\./g, '-'), namespace: 'app' });
    const parts = ['*', 'a*', 'a', 'a?', '[ab]', 'b', '\\', 'x:y', '{t}'];
    for (const p of parts) await redis.mset(k.key('k', p), '1', k.key('k', p, 'child'), '1');
    try {
      for (const p of parts) {
        const [, exact] = await redis.scan('0', 'MATCH', k.exact('k', p), 'COUNT', 1000);
        expect(exact).toEqual([k.key('k', p)]);
        const [, under] = await redis.scan('0', 'MATCH', k.under('k', p), 'COUNT', 1000);
        expect(under).toEqual([k.key('k', p, 'child')]);
      }
    } finally {
      const [, all] = await redis.scan('0', 'MATCH', k.all(), 'COUNT', 1000);
      if (all.length) await redis.unlink(...all);
    }
  });
});
