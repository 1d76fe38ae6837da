/**
 * The universal decoder: reads the envelope header and dispatches on the
 * format and compression it names, so any reader decodes any writer's value.
 */

import { decompressPayload } from './codecs/compression-codec.js';
import { asSerializationError, corrupt, tooLarge, unsafe } from './codecs/failures.js';
import { decodeJson, decodeRichJson } from './codecs/json-codec.js';
import { decodeMsgpack } from './codecs/msgpack-codec.js';
import { decodeV8 } from './codecs/v8-codec.js';
import { CompressionId, ENVELOPE_MAGIC, ENVELOPE_VERSION, FormatId, HEADER_SIZE, readHeader } from './envelope.js';
import { SerializationError, SerializationErrorCode } from './errors.js';
import { resolveDecodeOptions } from './options.js';
import type { DecodeOptions, ResolvedDecodeOptions } from './types.js';

const FORMAT_NAMES: Readonly<Record<number, string>> = {
  [FormatId.Json]: 'json',
  [FormatId.JsonRich]: 'json-rich',
  [FormatId.Msgpack]: 'msgpack',
  [FormatId.MsgpackRecords]: 'msgpack',
  [FormatId.V8]: 'v8',
};

/** Decodes a value with already-resolved options; the hot path of every serializer. */
export function decodeWith(buf: Uint8Array, options: ResolvedDecodeOptions): unknown {
  if (!(buf instanceof Uint8Array)) {
    throw new SerializationError(
      SerializationErrorCode.Corrupt,
      `decode expects a Buffer or Uint8Array, got ${buf === null ? 'null' : typeof buf}; read Redis values with getBuffer().`,
    );
  }
  if (buf.length > options.maxSize) throw tooLarge('Encoded value', buf.length, options.maxSize);
  // The common case, an uncompressed JSON envelope (what json() writes): no header object, straight to the parse.
  if (
    buf[0] === ENVELOPE_MAGIC &&
    buf[1] === ENVELOPE_VERSION &&
    buf[2] === FormatId.Json &&
    buf[3] === CompressionId.None
  ) {
    try {
      return decodeJson(buf, HEADER_SIZE, options);
    } catch (error) {
      throw asSerializationError('json', error);
    }
  }
  const header = readHeader(buf);
  const name = FORMAT_NAMES[header.format];
  if (name === undefined) {
    throw new SerializationError(
      SerializationErrorCode.UnknownFormat,
      `Format id ${header.format} is unknown to this @stratacache/serializers; the value was written by a newer version. Upgrade the reader.`,
      { context: { format: header.format } },
    );
  }
  try {
    let payload = buf;
    let offset = header.offset;
    if (header.compression !== CompressionId.None) {
      if (header.compression > CompressionId.Brotli) {
        throw new SerializationError(
          SerializationErrorCode.UnknownFormat,
          `Compression id ${header.compression} is unknown to this @stratacache/serializers; upgrade the reader.`,
          { context: { compression: header.compression } },
        );
      }
      payload = decompressPayload(header.compression, buf.subarray(offset), options.maxSize);
      offset = 0;
    }
    switch (header.format) {
      case FormatId.Json:
        return decodeJson(payload, offset, options);
      case FormatId.JsonRich:
        return decodeRichJson(payload, offset, options);
      case FormatId.Msgpack:
      case FormatId.MsgpackRecords:
        return decodeMsgpack(payload, offset, options);
      case FormatId.V8:
        if (!options.allowV8) {
          throw unsafe(
            'a value written by v8()',
            'v8.deserialize trusts its input; read such values with v8(), or pass allowV8: true where nobody else can write to Redis.',
          );
        }
        return decodeV8(payload, offset);
    }
  } catch (error) {
    throw asSerializationError(name, error);
  }
  throw corrupt(name, 'unreachable format');
}

/**
 * Decodes any value written by a stratacache serializer, or plain JSON written
 * by another tool. Throws only `SerializationError`.
 *
 * @example
 * ```ts
 * import { decode } from '@stratacache/serializers';
 * const value = decode(await redis.getBuffer('strata:app:data:42'));
 * ```
 */
export function decode(buf: Uint8Array, options?: DecodeOptions): unknown {
  return decodeWith(buf, resolveDecodeOptions(options));
}
