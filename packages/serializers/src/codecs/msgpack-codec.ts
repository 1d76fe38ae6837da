/**
 * msgpack payloads through msgpackr: plain maps, or records (msgpackr's
 * structure extension: each object shape is written once per value, then
 * objects of that shape are written as their values only, which is smaller
 * and faster for large arrays of uniform objects).
 */
import { Packr, Unpackr } from 'msgpackr';
import type { ResolvedDecodeOptions } from '../types.js';
import { encodeFailure } from './failures.js';
import { assertSafeMsgpack } from './msgpack-guard.js';

// BigInt travels as msgpackr's 0x42 extension so values beyond 64 bits round-trip.
const plainPackr = new Packr({ useRecords: false, useBigIntExtension: true });
const recordsPackr = new Packr({ useRecords: true, useBigIntExtension: true });
// One unpacker reads both: record definitions are self-contained in each value.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Encodes `value` as msgpack; `records` turns on msgpackr's record structures. */
export function encodeMsgpack(value: unknown, records: boolean): Buffer {
  try {
    return (records ? recordsPackr : plainPackr).pack(value);
  } catch (error) {
    throw encodeFailure(records ? 'msgpack(records)' : 'msgpack', error);
  }
}

/** Decodes msgpack after the safety walk of {@link assertSafeMsgpack} (unless extensions are trusted). */
export function decodeMsgpack(buf: Uint8Array, offset: number, options: ResolvedDecodeOptions): unknown {
  if (options.msgpackExtensions === 'safe') assertSafeMsgpack(buf, offset, options);
  return unpackr.unpack(buf.subarray(offset));
}
