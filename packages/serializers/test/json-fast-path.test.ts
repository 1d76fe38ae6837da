/**
 * The JSON fast path: text that cannot spell `proto` (no such letters, no
 * `\u` escape) is parsed with a bare JSON.parse; anything else takes the full
 * secure-json-parse scan. Whatever path a value takes, no decoded object may
 * hold a `__proto__` key or a `constructor` object with a `prototype` key.
 */
import { decode, json, SerializationErrorCode } from '@stratacache/serializers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const enveloped = (text: string) => Buffer.concat([Buffer.from([0xf5, 1, 1, 0]), Buffer.from(text)]);

/** Every object reachable from `value`, the value included. */
function objects(value: unknown, out: object[] = []): object[] {
  if (typeof value !== 'object' || value === null) return out;
  out.push(value);
  for (const child of Object.values(value)) objects(child, out);
  return out;
}

/** True when no object of `value` could reach a prototype through a merge. */
function unpoisoned(value: unknown): boolean {
  return objects(value).every((o) => {
    if (Object.hasOwn(o, '__proto__')) return false;
    const ctor = (o as Record<string, unknown>).constructor;
    return !(
      Object.hasOwn(o, 'constructor') &&
      typeof ctor === 'object' &&
      ctor !== null &&
      Object.hasOwn(ctor, 'prototype')
    );
  });
}

// The ways a hostile writer can spell the two keys in JSON text.
const HOSTILE = [
  '{"__proto__":{"isAdmin":true},"a":1}',
  '{"a":{"b":[{"__proto__":{"x":1}}]}}',
  '{"\\u005f_proto__":{"x":1}}',
  '{"__pr\\u006fto__":{"x":1}}',
  '{"\\u005F\\u005Fproto\\u005F\\u005F":{"x":1}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '{"constructor":{"\\u0070rototype":{"x":1}}}',
  '{"\\u0063onstructor":{"prototype":{"x":1}}}',
  '{"list":[1,{"constructor":{"prototype":{"polluted":true}}}]}',
  '\ufeff{"__proto__":{"x":1}}',
];

describe('json decode: prototype poisoning on every path', () => {
  it.each(HOSTILE)('drops the poisoned key of %s, enveloped and headerless', (text) => {
    for (const bytes of [enveloped(text), Buffer.from(text)]) {
      const value = json().decode(bytes);
      expect(unpoisoned(value)).toBe(true);
      expect(unpoisoned(decode(bytes))).toBe(true);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    }
  });

  it.each(HOSTILE)("refuses %s with protoAction: 'error'", (text) => {
    expect(() => json({ protoAction: 'error' }).decode(enveloped(text))).toThrowError(
      expect.objectContaining({ code: SerializationErrorCode.Unsafe }),
    );
  });

  it('keeps harmless keys that only look alike', () => {
    const text = '{"constructor":"Babbage","prototype":1,"proto":{"a":[1,2]},"note":"\\u00e9t\\u00e9"}';
    expect(json().decode(enveloped(text))).toEqual({
      constructor: 'Babbage',
      prototype: 1,
      proto: { a: [1, 2] },
      note: 'été',
    });
  });

  it('reads a value with a byte-order mark, as plain JSON from other tools may have', () => {
    expect(json().decode(Buffer.from('\ufeff{"a":1}'))).toEqual({ a: 1 });
  });

  it('reports broken JSON on the fast path as a SerializationError', () => {
    expect(() => json().decode(enveloped('{"a":'))).toThrowError(
      expect.objectContaining({ code: SerializationErrorCode.Truncated }),
    );
    expect(() => json().decode(enveloped('{"a" 1}'))).toThrowError(
      expect.objectContaining({ code: SerializationErrorCode.Corrupt }),
    );
  });

  it('random objects with hostile keys spliced in never decode poisoned, and clean ones equal JSON.parse', () => {
    const hostileKey = fc.constantFrom(
      '__proto__',
      '\\u005f_proto__',
      'constructor',
      '\\u0063onstructor',
      'prototype',
      '\\u0070rototype',
      'proto',
      'name',
    );
    // Build the text by hand so the hostile spellings stay escaped in it.
    const node: fc.Memo<string> = fc.memo((depth) =>
      depth <= 1
        ? fc.oneof(
            fc.integer().map(String),
            fc.string().map((s) => JSON.stringify(s)),
          )
        : fc.oneof(
            fc
              .array(
                fc.tuple(
                  fc.oneof(
                    hostileKey,
                    fc.string().map((s) => JSON.stringify(s).slice(1, -1)),
                  ),
                  node(depth - 1),
                ),
                {
                  maxLength: 4,
                },
              )
              .map((pairs) => `{${pairs.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
            fc.array(node(depth - 1), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
          ),
    );
    fc.assert(
      fc.property(node(4), (text) => {
        const value = json().decode(enveloped(text));
        expect(unpoisoned(value)).toBe(true);
        if (!/proto|\\u/.test(text)) expect(value).toEqual(JSON.parse(text));
      }),
      { numRuns: 2000 },
    );
  });
});
