/** Builds a {@link Serializer} from a payload encoder; shared by every built-in format. */
import { tooLarge } from './codecs/failures.js';
import { decodeWith } from './decode.js';
import { CompressionId, type FormatId, HEADER_SIZE, wrap } from './envelope.js';
import { resolveDecodeOptions } from './options.js';
import type { DecodeOptions, Serializer } from './types.js';

/** Builds a serializer that writes `format` payloads and decodes any enveloped value. */
export function defineSerializer<T>(
  name: string,
  format: FormatId,
  encodePayload: (value: T) => Uint8Array,
  options: DecodeOptions,
): Serializer<T> {
  const resolved = resolveDecodeOptions(options);
  return Object.freeze({
    name,
    format,
    decodeOptions: resolved,
    encode(value: T): Buffer {
      const payload = encodePayload(value);
      const size = payload.length + HEADER_SIZE;
      if (size > resolved.maxSize) throw tooLarge('Encoded value', size, resolved.maxSize);
      return wrap(format, CompressionId.None, payload);
    },
    decode(buf: Uint8Array): T {
      return decodeWith(buf, resolved) as T;
    },
  });
}
