import { gzipSync } from 'node:zlib';
import {
  CompressionId,
  compress,
  DEFAULT_COMPRESSION_THRESHOLD,
  decode,
  json,
  msgpack,
  SerializationErrorCode,
} from '@stratacache/serializers';
import { describe, expect, it } from 'vitest';

const code = (c: string) => expect.objectContaining({ code: c });
const text = (bytes: number) => 'lorem ipsum dolor sit amet '.repeat(Math.ceil(bytes / 27)).slice(0, bytes);

describe('compress()', () => {
  it('leaves payloads under the threshold uncompressed and compresses the rest', () => {
    const s = compress(json());
    const small = s.encode(text(100));
    expect(small[3]).toBe(CompressionId.None);
    const large = s.encode(text(DEFAULT_COMPRESSION_THRESHOLD * 4));
    expect(large[3]).toBe(CompressionId.Gzip);
    expect(large.length).toBeLessThan(DEFAULT_COMPRESSION_THRESHOLD);
    expect(s.decode(large)).toBe(text(DEFAULT_COMPRESSION_THRESHOLD * 4));
  });

  it('writes the id of each algorithm, and any reader decodes it without settings', () => {
    const value = { body: text(10_000) };
    for (const [algorithm, id] of [
      ['gzip', CompressionId.Gzip],
      ['deflate', CompressionId.Deflate],
      ['brotli', CompressionId.Brotli],
    ] as const) {
      const buf = compress(msgpack(), { algorithm, threshold: 0 }).encode(value);
      expect(buf[3]).toBe(id);
      expect(json().decode(buf)).toEqual(value);
      expect(decode(buf)).toEqual(value);
    }
  });

  it('keeps incompressible payloads as they are', () => {
    const random = Buffer.from(Array.from({ length: 8192 }, () => Math.floor(Math.random() * 256)));
    const buf = compress(msgpack(), { threshold: 0 }).encode(random);
    expect(buf[3]).toBe(CompressionId.None);
  });

  it('stops a decompression bomb at maxSize', () => {
    // 64 MiB of zeros gzip to about 64 KiB; the reader allows 1 MiB.
    const bomb = Buffer.concat([
      Buffer.from([0xf5, 1, 1, CompressionId.Gzip]),
      gzipSync(Buffer.alloc(64 * 1024 * 1024)),
    ]);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(() => json({ maxSize: 1024 * 1024 }).decode(bomb)).toThrowError(code(SerializationErrorCode.TooLarge));
  });

  it('reports a cut-short compressed payload as truncated', () => {
    const buf = compress(json(), { threshold: 0 }).encode(text(5000));
    expect(() => json().decode(buf.subarray(0, buf.length - 10))).toThrowError(code(SerializationErrorCode.Truncated));
  });

  it('validates its options', () => {
    expect(() => compress(json(), { algorithm: 'zstd' as never })).toThrowError(code('E_CONFIG'));
    expect(() => compress(json(), { level: 10 })).toThrowError(
      /^level must be an integer from 0 to 9 for gzip; got 10$/,
    );
    expect(() => compress(json(), { algorithm: 'brotli', level: 11 })).not.toThrow();
    expect(() => compress(json(), { threshold: -1 })).toThrowError(/threshold/);
  });
});
