import { encodeJson, encodeRichJson } from './codecs/json-codec.js';
import { defineSerializer } from './define-serializer.js';
import { FormatId } from './envelope.js';
import { checkOptionsObject, failOption } from './options.js';
import type { DecodeOptions, Serializer } from './types.js';

/** Options of {@link json}. */
export interface JsonOptions extends DecodeOptions {
  /**
   * Round-trip Date, BigInt, Map, Set, Buffer, Uint8Array, undefined, NaN,
   * ±Infinity and -0 by tagging them (`{"$sc": tag, "v": data}`). Costs about
   * 2-4x plain JSON on encode. Values written by other tools still read.
   * @default false
   */
  rich?: boolean;
}

/**
 * JSON: the default serializer. Safe by default: `__proto__` keys and
 * `constructor.prototype` pairs are dropped on decode (see `protoAction`).
 * Plain mode encodes what `JSON.stringify` does and throws
 * `E_SERIALIZATION_ENCODE` for BigInt, cycles and a top-level `undefined`.
 *
 * @example
 * ```ts
 * import { json } from '@stratacache/serializers';
 * const s = json({ rich: true });
 * s.decode(s.encode({ at: new Date(), ids: new Set([1, 2]) })); // Date and Set come back
 * ```
 */
export function json<T = unknown>(options: JsonOptions = {}): Serializer<T> {
  checkOptionsObject(options, ['rich']);
  const { rich = false, ...decodeOptions } = options;
  if (typeof rich !== 'boolean') failOption('rich', 'must be true or false', rich);
  return rich
    ? defineSerializer<T>('json-rich', FormatId.JsonRich, encodeRichJson, decodeOptions)
    : defineSerializer<T>('json', FormatId.Json, encodeJson, decodeOptions);
}
