import { json, SerializationError, SerializationErrorCode } from '@stratacache/serializers';
import { describe, expect, it } from 'vitest';

const code = (c: string) => expect.objectContaining({ code: c });

describe('json (plain)', () => {
  const s = json();

  it('refuses BigInt and cycles, naming the way out', () => {
    expect(() => s.encode({ n: 1n })).toThrowError(/json\(\{ rich: true \}\)/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => s.encode(cyclic)).toThrowError(code(SerializationErrorCode.Encode));
    expect(() => s.encode(undefined)).toThrowError(code(SerializationErrorCode.Encode));
  });

  it('drops __proto__ keys by default and keeps the rest', () => {
    const value = s.decode(Buffer.from('{"__proto__":{"isAdmin":true},"name":"x"}')) as Record<string, unknown>;
    expect(value).toEqual({ name: 'x' });
    expect(Object.hasOwn(value, '__proto__')).toBe(false);
    expect((value as { isAdmin?: boolean }).isAdmin).toBeUndefined();
  });

  it("refuses __proto__ keys with protoAction: 'error'", () => {
    const strict = json({ protoAction: 'error' });
    expect(() => strict.decode(Buffer.from('{"a":{"__proto__":{"x":1}}}'))).toThrowError(
      code(SerializationErrorCode.Unsafe),
    );
    expect(() => strict.decode(Buffer.from('{"constructor":{"prototype":{"x":1}}}'))).toThrowError(
      code(SerializationErrorCode.Unsafe),
    );
  });

  it('reads plain JSON without a header, as another tool writes it', () => {
    expect(s.decode(Buffer.from('[1,2,{"a":"b"}]'))).toEqual([1, 2, { a: 'b' }]);
    expect(s.decode(new Uint8Array(Buffer.from('42')))).toBe(42);
  });

  it('reports malformed headerless text as corrupt', () => {
    expect(() => s.decode(Buffer.from('not json'))).toThrowError(SerializationError);
    expect(() => s.decode(Buffer.alloc(0))).toThrowError(SerializationError);
  });

  it('validates its options', () => {
    expect(() => json({ maxSize: 0 })).toThrowError(code('E_CONFIG'));
    expect(() => json({ protoAction: 'ignore' as never })).toThrowError(/protoAction/);
  });
});

describe('json (rich)', () => {
  const s = json({ rich: true });
  const roundTrip = <T>(v: T): T => s.decode(s.encode(v)) as T;

  it('round-trips every rich type with its class', () => {
    const date = roundTrip(new Date('2026-01-02T03:04:05.678Z'));
    expect(date).toBeInstanceOf(Date);
    expect(date.toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(roundTrip(2n ** 100n)).toBe(2n ** 100n);
    const map = roundTrip(new Map<unknown, unknown>([[{ k: 1 }, new Set([1n])]]));
    expect(map).toBeInstanceOf(Map);
    expect([...map.values()][0]).toEqual(new Set([1n]));
    expect(Buffer.isBuffer(roundTrip(Buffer.from('abc')))).toBe(true);
    const u8 = roundTrip(new Uint8Array([1, 2, 3]));
    expect(u8).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(u8)).toBe(false);
    expect(roundTrip(undefined)).toBeUndefined();
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    expect(roundTrip([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toEqual([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
    expect(Number.isNaN(roundTrip(new Date(Number.NaN)).getTime())).toBe(true);
    const withUndefined = roundTrip({ a: undefined, b: 1 });
    expect(Object.hasOwn(withUndefined, 'a')).toBe(true);
  });

  it('escapes user objects that look like tags', () => {
    const tricky = { $sc: 'D', v: '2020-01-01T00:00:00.000Z' };
    expect(roundTrip(tricky)).toEqual(tricky);
    expect(roundTrip({ nested: [{ $sc: 'u' }] })).toEqual({ nested: [{ $sc: 'u' }] });
  });

  it('reads plain JSON from other writers, even with a $sc key', () => {
    expect(s.decode(Buffer.from('{"$sc":"u","v":1}'))).toEqual({ $sc: 'u', v: 1 });
  });

  it('never builds a prototype from hostile escaped entries', () => {
    const hostile = Buffer.concat([
      s.encode(null).subarray(0, 4),
      Buffer.from('{"$sc":"O","v":[["__proto__",{"polluted":1}],["constructor",{"prototype":{"p":1}}],["ok",1]]}'),
    ]);
    const value = s.decode(hostile) as Record<string, unknown>;
    expect(value).toEqual({ ok: 1 });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => json({ rich: true, protoAction: 'error' }).decode(hostile)).toThrowError(
      code(SerializationErrorCode.Unsafe),
    );
  });

  it('reports unknown or malformed tags as corrupt', () => {
    const header = s.encode(null).subarray(0, 4);
    for (const body of [
      '{"$sc":"Z","v":1}',
      '{"$sc":"B","v":"12x"}',
      '{"$sc":"M","v":[1,2]}',
      '{"$sc":"D","v":"nope"}',
    ]) {
      expect(() => s.decode(Buffer.concat([header, Buffer.from(body)]))).toThrowError(
        code(SerializationErrorCode.Corrupt),
      );
    }
  });

  it('bounds nesting depth', () => {
    const shallow = json({ rich: true, maxDepth: 8 });
    const deep = s.encode(JSON.parse(`${'['.repeat(20)}{"$sc":"u"}${']'.repeat(20)}`));
    expect(() => shallow.decode(deep)).toThrowError(code(SerializationErrorCode.Corrupt));
  });
});
