import { encodeMsgpack } from './codecs/msgpack-codec.js';
import { defineSerializer } from './define-serializer.js';
import { FormatId } from './envelope.js';
import { checkOptionsObject, failOption } from './options.js';
import type { DecodeOptions, Serializer } from './types.js';

/** Options of {@link msgpack}. */
export interface MsgpackOptions extends DecodeOptions {
  /**
   * Use msgpackr records: each object shape is written once per value and
   * objects of that shape as values only. Smaller and faster for large arrays
   * of uniform objects (query results); slightly larger for small single objects.
   * @default false
   */
  records?: boolean;
}

/**
 * MessagePack through msgpackr: compact and fast. Round-trips JSON data plus
 * Date, BigInt, Buffer/Uint8Array (read back as Buffer) and undefined; a Map
 * reads back as a plain object and a Set as an array. Decoding refuses
 * extensions that build other objects unless `msgpackExtensions: 'trusted'`.
 *
 * @example
 * ```ts
 * import { msgpack } from '@stratacache/serializers';
 * const s = msgpack({ records: true });
 * const rows = s.decode(s.encode([{ id: 1, name: 'a' }, { id: 2, name: 'b' }]));
 * ```
 */
export function msgpack<T = unknown>(options: MsgpackOptions = {}): Serializer<T> {
  checkOptionsObject(options, ['records']);
  const { records = false, ...decodeOptions } = options;
  if (typeof records !== 'boolean') failOption('records', 'must be true or false', records);
  return records
    ? defineSerializer<T>('msgpack(records)', FormatId.MsgpackRecords, (v) => encodeMsgpack(v, true), decodeOptions)
    : defineSerializer<T>('msgpack', FormatId.Msgpack, (v) => encodeMsgpack(v, false), decodeOptions);
}
