/**
 * v8 structured clone payloads (`node:v8` serialize / deserialize): every type
 * structured clone knows, cycles included. Like Python's pickle it is for
 * trusted data only: a crafted buffer can make the deserializer allocate
 * large objects, and the format changes between V8 versions.
 */
import { deserialize, serialize } from 'node:v8';
import { encodeFailure } from './failures.js';

/** Encodes `value` with `v8.serialize`. */
export function encodeV8(value: unknown): Buffer {
  try {
    return serialize(value);
  } catch (error) {
    throw encodeFailure('v8', error, 'Functions, symbols and class prototypes are not cloneable.');
  }
}

/** Decodes with `v8.deserialize`. */
export function decodeV8(buf: Uint8Array, offset: number): unknown {
  return deserialize(buf.subarray(offset));
}
