import type { FormatId } from './envelope.js';

/**
 * Turns values into bytes and back. Every built-in serializer writes the
 * envelope header, and every `decode` reads any enveloped value whatever
 * serializer wrote it, so a fleet can change serializer without flushing Redis.
 *
 * @typeParam T - the type of values this serializer is used for (not checked at runtime).
 */
export interface Serializer<T = unknown> {
  /** Human-readable name, such as `json`, `msgpack` or `gzip(json)`. */
  readonly name: string;
  /** Format id written into the header of values this serializer encodes. */
  readonly format: FormatId;
  /** Encodes `value`. Throws a `SerializationError` (code `E_SERIALIZATION_ENCODE` or `..._TOO_LARGE`). */
  encode(value: T): Buffer;
  /** Decodes `buf`. Throws only `SerializationError`, whatever the bytes. */
  decode(buf: Uint8Array): T;
  /** The decode options this serializer applies; wrappers such as `compress()` inherit them. */
  readonly decodeOptions?: ResolvedDecodeOptions;
}

/** What to do with a `__proto__` key (or a `constructor.prototype` pair) in decoded JSON. */
export type ProtoAction = 'remove' | 'error';

/** Which msgpack extensions a decoder accepts. */
export type MsgpackExtensions = 'safe' | 'trusted';

/** Limits and safety policy applied when decoding. All optional. */
export interface DecodeOptions {
  /**
   * Largest buffer accepted by `decode`, and largest payload a compressed
   * value may inflate to, in bytes. Larger input throws `E_SERIALIZATION_TOO_LARGE`
   * before any allocation proportional to it. `encode` refuses values over it too,
   * so nothing is written that readers would refuse.
   * @default 67108864 (64 MiB)
   */
  maxSize?: number;
  /**
   * JSON keys `__proto__` and `constructor` holding `prototype`: `'remove'` drops
   * them, `'error'` throws `E_SERIALIZATION_UNSAFE`. Either way they never reach a prototype.
   * @default 'remove'
   */
  protoAction?: ProtoAction;
  /**
   * msgpack extensions: `'safe'` accepts only Date, BigInt, Set, undefined,
   * typed arrays and records, and throws `E_SERIALIZATION_UNSAFE` for others
   * (Error, RegExp, structured-clone references, any class registered with
   * msgpackr's `addExtension`); `'trusted'` accepts all and skips the
   * pre-decode walk (so `maxDepth` is then not enforced for msgpack).
   * @default 'safe'
   */
  msgpackExtensions?: MsgpackExtensions;
  /**
   * Decode values written by `v8()`. `v8.deserialize` builds any structured-clone
   * type (RegExp, Error, ...) and trusts its input, so only readers of data
   * nobody else can write should accept it; others throw `E_SERIALIZATION_UNSAFE`.
   * @default false (true for the `v8()` serializer)
   */
  allowV8?: boolean;
  /**
   * Deepest nesting of arrays and objects accepted when decoding msgpack and rich JSON.
   * @default 512
   */
  maxDepth?: number;
}

/** {@link DecodeOptions} with every default applied. */
export type ResolvedDecodeOptions = Readonly<Required<DecodeOptions>>;
