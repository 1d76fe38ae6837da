/** Safety limits found in review: v8 bytes, option inheritance, BigInt size, pooled memory, quiet messages. */
import { serialize } from 'node:v8';
import { compress, decode, json, msgpack, SerializationErrorCode, v8 } from '@stratacache/serializers';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';

const code = (c: string) => expect.objectContaining({ code: c });
const v8Bytes = (value: unknown) => Buffer.concat([Buffer.from([0xf5, 1, 5, 0]), serialize(value)]);

describe('v8 values are read only by readers that allow them', () => {
  const hostile = v8Bytes({ re: /(a+)+$/, err: new Error('x') });

  it('refuses them in json(), msgpack() and decode() by default', () => {
    for (const reader of [json(), msgpack(), compress(json())]) {
      expect(() => reader.decode(hostile)).toThrowError(code(SerializationErrorCode.Unsafe));
    }
    expect(() => decode(hostile)).toThrowError(code(SerializationErrorCode.Unsafe));
  });

  it('reads them with v8() or allowV8: true', () => {
    expect((v8().decode(hostile) as { re: RegExp }).re).toBeInstanceOf(RegExp);
    expect((json({ allowV8: true }).decode(hostile) as { err: Error }).err).toBeInstanceOf(Error);
    expect(decode(hostile, { allowV8: true })).toBeTruthy();
  });
});

describe('compress() keeps the inner serializer decode options', () => {
  it("inherits protoAction: 'error'", () => {
    const strict = compress(json({ protoAction: 'error' }), { threshold: 0 });
    const poisoned = Buffer.from('{"__proto__":{"x":1}}');
    expect(() => strict.decode(poisoned)).toThrowError(code(SerializationErrorCode.Unsafe));
  });

  it("inherits msgpackExtensions: 'trusted'", () => {
    const trusted = compress(msgpack({ msgpackExtensions: 'trusted' }));
    const error = Buffer.concat([Buffer.from([0xf5, 1, 3, 0]), new Packr({ moreTypes: true }).pack(new Error('e'))]);
    expect(trusted.decode(error)).toBeInstanceOf(Error);
  });

  it('lets its own options win', () => {
    const wrapped = compress(json({ maxSize: 1 << 20 }), { maxSize: 64 });
    expect(wrapped.decodeOptions?.maxSize).toBe(64);
    expect(compress(json({ maxSize: 100 })).decodeOptions?.maxSize).toBe(100);
  });
});

describe('rich JSON limits', () => {
  const rich = json({ rich: true });
  const header = rich.encode(null).subarray(0, 4);

  it('refuses a BigInt too long to parse quickly', () => {
    const huge = Buffer.concat([header, Buffer.from(`{"$sc":"B","v":"${'9'.repeat(20_000)}"}`)]);
    expect(() => rich.decode(huge)).toThrowError(code(SerializationErrorCode.TooLarge));
    expect(rich.decode(rich.encode(10n ** 500n))).toBe(10n ** 500n);
  });

  it('returns a Uint8Array that owns its memory, not a view of the shared Buffer pool', () => {
    Buffer.from('SECRET-TOKEN-ELSEWHERE');
    const u8 = rich.decode(rich.encode(new Uint8Array([1, 2, 3]))) as Uint8Array;
    expect(u8.buffer.byteLength).toBe(3);
    expect(Buffer.from(u8.buffer).toString()).not.toContain('SECRET');
  });
});

describe('error messages never quote stored bytes', () => {
  it('keeps the parser message only as the cause', () => {
    const secret = 'card-4111-1111-1111-1111';
    for (const [reader, bytes] of [
      [json(), Buffer.from(`{"pan":"${secret}" oops}`)],
      [msgpack(), Buffer.concat([Buffer.from([0xf5, 1, 3, 0]), new Packr().pack(secret), Buffer.from([0xc1])])],
    ] as const) {
      try {
        reader.decode(bytes);
        expect.unreachable();
      } catch (error) {
        expect((error as Error).message).not.toContain(secret);
        expect((error as Error).message).not.toContain('card');
      }
    }
  });
});
