/**
 * The self-describing envelope every encoded value starts with.
 *
 * Layout (4 bytes, then the payload):
 *
 * | byte | meaning                                                      |
 * |------|--------------------------------------------------------------|
 * | 0    | magic `0xF5`: never the first byte of valid UTF-8, so never   |
 * |      | the start of JSON text written by another tool               |
 * | 1    | envelope version (currently 1)                               |
 * | 2    | format id ({@link FormatId})                                  |
 * | 3    | compression id ({@link CompressionId}), 0 when uncompressed   |
 *
 * A buffer that does not start with the magic byte is read as plain JSON,
 * so values written by other tools (or by hand with `redis-cli SET`) still read.
 */
import { SerializationError, SerializationErrorCode } from './errors.js';

/** First byte of every enveloped value. */
export const ENVELOPE_MAGIC = 0xf5;
/** The envelope version this package writes and the newest it reads. */
export const ENVELOPE_VERSION = 1;
/** Bytes of header before the payload. */
export const HEADER_SIZE = 4;

/** Identifies the encoding of the payload. Stable: stored in Redis. */
export const FormatId = {
  Json: 1,
  JsonRich: 2,
  Msgpack: 3,
  MsgpackRecords: 4,
  V8: 5,
} as const;
/** A value of {@link FormatId}. */
export type FormatId = (typeof FormatId)[keyof typeof FormatId];

/** Identifies the compression applied to the payload. Stable: stored in Redis. */
export const CompressionId = {
  None: 0,
  Gzip: 1,
  Deflate: 2,
  Brotli: 3,
} as const;
/** A value of {@link CompressionId}. */
export type CompressionId = (typeof CompressionId)[keyof typeof CompressionId];

/** What a header says about the payload that follows it. */
export interface EnvelopeHeader {
  version: number;
  format: number;
  compression: number;
  /** Offset of the payload in the buffer (0 for headerless plain JSON). */
  offset: number;
}

/** Builds the 4 header bytes. */
export function encodeHeader(format: FormatId, compression: CompressionId = CompressionId.None): Buffer {
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  header[0] = ENVELOPE_MAGIC;
  header[1] = ENVELOPE_VERSION;
  header[2] = format;
  header[3] = compression;
  return header;
}

/** Prefixes `payload` with a header, in one allocation. */
export function wrap(format: FormatId, compression: CompressionId, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  out[0] = ENVELOPE_MAGIC;
  out[1] = ENVELOPE_VERSION;
  out[2] = format;
  out[3] = compression;
  out.set(payload, HEADER_SIZE);
  return out;
}

/**
 * Reads the header of `buf`. Headerless buffers are reported as plain JSON at
 * offset 0. Throws a {@link SerializationError} for a header that is cut short
 * or from a newer envelope version.
 */
export function readHeader(buf: Uint8Array): EnvelopeHeader {
  if (buf.length === 0 || buf[0] !== ENVELOPE_MAGIC) {
    return { version: 0, format: FormatId.Json, compression: CompressionId.None, offset: 0 };
  }
  if (buf.length < HEADER_SIZE) {
    throw new SerializationError(
      SerializationErrorCode.Truncated,
      `Encoded value is ${buf.length} bytes, shorter than the ${HEADER_SIZE}-byte envelope header; the stored value was cut short.`,
      { context: { length: buf.length } },
    );
  }
  const version = buf[1] as number;
  if (version === 0 || version > ENVELOPE_VERSION) {
    throw new SerializationError(
      SerializationErrorCode.UnsupportedVersion,
      `Envelope version ${version} is not supported by this @stratacache/serializers (reads up to ${ENVELOPE_VERSION}); upgrade the reader.`,
      { context: { version } },
    );
  }
  return { version, format: buf[2] as number, compression: buf[3] as number, offset: HEADER_SIZE };
}
