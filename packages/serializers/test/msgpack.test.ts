import { FormatId, json, msgpack, SerializationErrorCode } from '@stratacache/serializers';
import { addExtension, Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';

const code = (c: string) => expect.objectContaining({ code: c });
/** An envelope around raw msgpack bytes, as a foreign msgpackr writer would produce. */
const envelope = (payload: Uint8Array, format: number = FormatId.Msgpack) =>
  Buffer.concat([Buffer.from([0xf5, 1, format, 0]), payload]);

class Widget {
  constructor(public readonly name: string) {}
}

describe('msgpack', () => {
  const s = msgpack();

  it('round-trips Date, BigInt, Buffer and undefined', () => {
    const value = { at: new Date(1234), big: 2n ** 80n, small: 7n, bin: Buffer.from('x'), none: undefined };
    const out = s.decode(s.encode(value)) as typeof value;
    expect(out.at).toBeInstanceOf(Date);
    expect(out.at.getTime()).toBe(1234);
    expect(out.big).toBe(2n ** 80n);
    expect(out.small).toBe(7n);
    expect(Buffer.isBuffer(out.bin)).toBe(true);
    expect(Object.hasOwn(out, 'none')).toBe(true);
  });

  it('refuses extensions that build arbitrary objects unless trusted', () => {
    const trusting = new Packr({ moreTypes: true, structuredClone: true });
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic.self = cyclic;
    for (const value of [new Error('boom'), /a+$/, cyclic]) {
      const bytes = envelope(trusting.pack(value));
      expect(() => s.decode(bytes)).toThrowError(code(SerializationErrorCode.Unsafe));
      expect(() => msgpack({ msgpackExtensions: 'trusted' }).decode(bytes)).not.toThrow();
    }
  });

  it('refuses classes registered with msgpackr addExtension elsewhere in the process', () => {
    addExtension({
      Class: Widget,
      type: 42,
      write: (w: Widget) => w.name,
      read: (name: string) => new Widget(name),
    });
    const bytes = envelope(new Packr().pack(new Widget('w')));
    expect(() => s.decode(bytes)).toThrowError(/extension type 0x2a/);
    expect(msgpack({ msgpackExtensions: 'trusted' }).decode(bytes)).toBeInstanceOf(Widget);
  });

  it('fails fast on a length that claims more than the buffer holds', () => {
    // array32 header claiming 4 billion elements, followed by nothing.
    expect(() => s.decode(envelope(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])))).toThrowError(
      code(SerializationErrorCode.Truncated),
    );
    // str32 claiming 4 GiB.
    expect(() => s.decode(envelope(Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61])))).toThrowError(
      code(SerializationErrorCode.Truncated),
    );
  });

  it('bounds nesting depth', () => {
    const nested = (depth: number) => envelope(Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]));
    expect(() => msgpack({ maxDepth: 100 }).decode(nested(300))).toThrowError(code(SerializationErrorCode.Corrupt));
    expect(s.decode(nested(300))).toBeInstanceOf(Array);
    // Far deeper than any stack: refused by the guard before msgpackr recurses.
    expect(() => s.decode(nested(1_000_000))).toThrowError(code(SerializationErrorCode.Corrupt));
  });

  it('refuses trailing bytes after the value', () => {
    expect(() => s.decode(envelope(Buffer.from([0x01, 0x02])))).toThrowError(code(SerializationErrorCode.Corrupt));
  });

  it('renames __proto__ keys so they never reach a prototype', () => {
    // fixmap(1) { "__proto__": { "polluted": true } }
    const bytes = envelope(new Packr().pack(JSON.parse('{"__proto__":{"polluted":true}}')));
    const value = s.decode(bytes) as object;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('msgpack records', () => {
  const records = msgpack({ records: true });
  const rows = Array.from({ length: 500 }, (_, i) => ({
    id: i,
    name: `user-${i}`,
    email: `u${i}@example.test`,
    active: true,
  }));

  it('is smaller than plain msgpack and JSON for uniform rows', () => {
    const recordBytes = records.encode(rows).length;
    expect(recordBytes).toBeLessThan(msgpack().encode(rows).length);
    expect(recordBytes).toBeLessThan(json().encode(rows).length);
    expect(records.decode(records.encode(rows))).toEqual(rows);
  });

  it('round-trips values with more shapes than record ids', () => {
    const shapes = Array.from({ length: 300 }, (_, i) => ({ [`k${i}`]: i, shared: 'x' }));
    expect(records.decode(records.encode(shapes))).toEqual(shapes);
    // And a plain reader reads them, the header tells it how.
    expect(msgpack().decode(records.encode(shapes))).toEqual(shapes);
  });
});
