/** The compression wrapper: compresses any serializer's payload above a size threshold. */

import { COMPRESSION_IDS, type CompressionAlgorithm, compressPayload } from './codecs/compression-codec.js';
import { tooLarge } from './codecs/failures.js';
import { decodeWith } from './decode.js';
import { CompressionId, type FormatId, HEADER_SIZE, wrap } from './envelope.js';
import { checkOptionsObject, failOption, resolveDecodeOptions } from './options.js';
import type { DecodeOptions, Serializer } from './types.js';

export type { CompressionAlgorithm };

/**
 * Default `threshold` in bytes. From the measurement in the package README:
 * on a 1 KiB JSON value gzip costs several times the stringify and saves
 * little; from about 4 KiB up the saved bytes outweigh the CPU.
 */
export const DEFAULT_COMPRESSION_THRESHOLD = 4096;

/** Options of {@link compress}. */
export interface CompressOptions extends DecodeOptions {
  /**
   * Algorithm: `gzip`, `deflate` (zlib-wrapped) or `brotli`.
   * @default 'gzip'
   */
  algorithm?: CompressionAlgorithm;
  /**
   * Compression level: 0-9 for gzip and deflate, 0-11 (quality) for brotli.
   * @default 6 for gzip and deflate, 4 for brotli (brotli's 11 is far too slow for a cache)
   */
  level?: number;
  /**
   * Payloads smaller than this many bytes are stored uncompressed (the header
   * says so, readers need no setting).
   * @default 4096
   */
  threshold?: number;
}

const MAX_LEVEL: Readonly<Record<CompressionAlgorithm, number>> = { gzip: 9, deflate: 9, brotli: 11 };

/**
 * Wraps `inner` so payloads of at least `threshold` bytes are compressed.
 * Decoding needs no option: the header names the compression.
 *
 * @example
 * ```ts
 * import { compress, json } from '@stratacache/serializers';
 * const s = compress(json(), { algorithm: 'brotli', threshold: 8192 });
 * ```
 */
export function compress<T>(inner: Serializer<T>, options: CompressOptions = {}): Serializer<T> {
  if (typeof inner?.encode !== 'function' || typeof inner.decode !== 'function') {
    failOption('inner', 'must be a serializer with encode() and decode() (json(), msgpack())', inner);
  }
  checkOptionsObject(options, ['algorithm', 'level', 'threshold']);
  const { algorithm = 'gzip', level, threshold = DEFAULT_COMPRESSION_THRESHOLD, ...decodeOptions } = options;
  const id = Object.hasOwn(COMPRESSION_IDS, algorithm) ? COMPRESSION_IDS[algorithm] : undefined;
  if (id === undefined) failOption('algorithm', "must be 'gzip', 'deflate' or 'brotli'", algorithm);
  const resolvedLevel = level ?? (algorithm === 'brotli' ? 4 : 6);
  if (!Number.isInteger(resolvedLevel) || resolvedLevel < 0 || resolvedLevel > MAX_LEVEL[algorithm]) {
    failOption('level', `must be an integer from 0 to ${MAX_LEVEL[algorithm]} for ${algorithm}`, level);
  }
  if (!Number.isInteger(threshold) || threshold < 0) {
    failOption('threshold', 'must be a non-negative integer (bytes)', threshold);
  }
  // The inner serializer's decode options apply unless the wrapper sets its own.
  const explicit = Object.fromEntries(Object.entries(decodeOptions).filter(([, v]) => v !== undefined));
  const resolved = resolveDecodeOptions({ ...inner.decodeOptions, ...explicit });
  const format = inner.format as FormatId;
  return Object.freeze({
    name: `${algorithm}(${inner.name})`,
    format,
    decodeOptions: resolved,
    encode(value: T): Buffer {
      const plain = inner.encode(value);
      // Readers bound the inflated size by maxSize too: refuse what they would refuse.
      if (plain.length > resolved.maxSize) throw tooLarge('Encoded value', plain.length, resolved.maxSize);
      // An inner serializer that already compressed (a wrapper of a wrapper) is left as it is.
      if (plain.length - HEADER_SIZE < threshold || plain[3] !== CompressionId.None) return plain;
      const packed = compressPayload(algorithm, plain.subarray(HEADER_SIZE), resolvedLevel);
      // Keep the original if compression did not help (already-compressed data).
      const out = packed.length < plain.length - HEADER_SIZE ? wrap(format, id, packed) : plain;
      if (out.length > resolved.maxSize) throw tooLarge('Encoded value', out.length, resolved.maxSize);
      return out;
    },
    decode(buf: Uint8Array): T {
      return decodeWith(buf, resolved) as T;
    },
  });
}
