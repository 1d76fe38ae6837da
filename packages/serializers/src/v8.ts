import { encodeV8 } from './codecs/v8-codec.js';
import { defineSerializer } from './define-serializer.js';
import { FormatId } from './envelope.js';
import type { DecodeOptions, Serializer } from './types.js';

/**
 * v8 structured clone (`node:v8`): every type structured clone supports,
 * including cycles, Map, Set, typed arrays and Error. The analog of Python's
 * pickle in the seeds, and like pickle **for trusted data only**: use it
 * only when nobody but your own services can write to the Redis it reads,
 * and only across processes running the same Node major version.
 *
 * @example
 * ```ts
 * import { v8 } from '@stratacache/serializers';
 * const s = v8();
 * const graph: { self?: unknown } = {};
 * graph.self = graph;
 * s.decode(s.encode(graph)); // the cycle survives
 * ```
 */
export function v8<T = unknown>(options: DecodeOptions = {}): Serializer<T> {
  return defineSerializer<T>('v8', FormatId.V8, encodeV8, { allowV8: true, ...options });
}
