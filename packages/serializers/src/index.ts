/**
 * @stratacache/serializers: values to bytes and back.
 *
 * Every serializer writes a 4-byte self-describing header, so `decode` reads
 * any value whatever serializer the reader is configured with.
 */

export type { CompressionAlgorithm, CompressOptions } from './compression.js';
export { compress, DEFAULT_COMPRESSION_THRESHOLD } from './compression.js';
export { decode } from './decode.js';
export type { EnvelopeHeader } from './envelope.js';
export {
  CompressionId,
  ENVELOPE_MAGIC,
  ENVELOPE_VERSION,
  FormatId,
  HEADER_SIZE,
  readHeader,
} from './envelope.js';
export type { StratacacheErrorOptions } from './errors.js';
export {
  SerializationError,
  SerializationErrorCode,
  SerializerConfigError,
  STRATACACHE_ERROR_MARKER,
  StratacacheError,
} from './errors.js';
export type { JsonOptions } from './json.js';
export { json } from './json.js';
export type { MsgpackOptions } from './msgpack.js';
export { msgpack } from './msgpack.js';
export { DEFAULT_DECODE_OPTIONS } from './options.js';
export type {
  DecodeOptions,
  MsgpackExtensions,
  ProtoAction,
  ResolvedDecodeOptions,
  Serializer,
} from './types.js';
export { v8 } from './v8.js';
