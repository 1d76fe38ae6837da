/**
 * The shared option validators (DESIGN.md, Options). Every layer checks its
 * options with these, so the same mistake gets the same message in every
 * package: `<option> must be <what>; got <the value received>`, thrown as a
 * `ConfigError` (`E_CONFIG`) whose `context.option` names the option.
 *
 * Each validator returns the checked (or converted) value, so a resolver reads
 * as a list of assignments:
 *
 * @example
 * ```ts
 * import { check } from '@stratacache/core-client';
 * const resolved = Object.freeze({
 *   ttlMs: check.positiveDuration(options.ttl ?? '30s', 'ttl'),
 *   limit: check.positiveInt(options.limit, 'limit'),
 *   mode: check.oneOf(options.mode ?? 'eager', 'mode', ['eager', 'lazy']),
 * });
 * ```
 */
import type { StrataRedis } from './create-redis.js';
import { describeValue, failOption } from './describe-value.js';
import { type Duration, toMs } from './duration.js';

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

/** Options of {@link check.fraction}. */
export interface FractionBounds {
  /** Accept 0. @default true */
  zero?: boolean;
  /** Accept 1. @default true */
  one?: boolean;
}

/**
 * The validators. Each takes the value and the option's name (as the user
 * wrote it, `breaker.window`, `REDIS_PORT`), and returns the value checked.
 */
export const check = Object.freeze({
  /** A duration of more than 0 ms (`250`, `'30s'`); returns milliseconds. */
  positiveDuration(value: unknown, option: string): number {
    const ms = toMs(value as Duration, option);
    if (ms <= 0) failOption(option, 'must be more than 0 ms', value);
    return ms;
  },

  /** A duration of 0 ms or more; returns milliseconds. */
  nonNegativeDuration(value: unknown, option: string): number {
    return toMs(value as Duration, option);
  },

  /**
   * An integer of 1 or more. With `unlimited: true`, `Infinity` is accepted
   * too (and returned), for limits that may be off.
   */
  positiveInt(value: unknown, option: string, options: { unlimited?: boolean } = {}): number {
    if (options.unlimited && value === Number.POSITIVE_INFINITY) return value;
    if (!isInt(value) || value < 1) {
      failOption(option, `must be a positive integer${options.unlimited ? ' (or Infinity for no limit)' : ''}`, value);
    }
    return value;
  },

  /** An integer of 0 or more. */
  nonNegativeInt(value: unknown, option: string): number {
    if (!isInt(value) || value < 0) failOption(option, 'must be an integer of 0 or more', value);
    return value;
  },

  /** An integer from `min` to `max`, both included. */
  intInRange(value: unknown, option: string, min: number, max: number): number {
    if (!isInt(value) || value < min || value > max)
      failOption(option, `must be an integer from ${min} to ${max}`, value);
    return value;
  },

  /** A number from 0 to 1; `bounds` can leave out either end. */
  fraction(value: unknown, option: string, bounds: FractionBounds = {}): number {
    const zero = bounds.zero ?? true;
    const one = bounds.one ?? true;
    const ok = typeof value === 'number' && (zero ? value >= 0 : value > 0) && (one ? value <= 1 : value < 1);
    if (!ok) {
      failOption(
        option,
        `must be a number from 0 to 1 (${zero ? 'with' : 'without'} 0, ${one ? 'with' : 'without'} 1)`,
        value,
      );
    }
    return value as number;
  },

  /** One of `allowed` (compared with `===`). */
  oneOf<const T extends string | number | boolean>(value: unknown, option: string, allowed: readonly T[]): T {
    if (!allowed.includes(value as T)) {
      failOption(option, `must be one of ${allowed.map((a) => describeValue(a)).join(', ')}`, value);
    }
    return value as T;
  },

  /** `true` or `false`. */
  boolean(value: unknown, option: string): boolean {
    if (typeof value !== 'boolean') failOption(option, 'must be true or false', value);
    return value;
  },

  /** A non-empty string (a lock, limiter, channel or worker name). */
  name(value: unknown, option: string): string {
    if (typeof value !== 'string' || value.length === 0) failOption(option, 'must be a non-empty string', value);
    return value;
  },

  /**
   * A key namespace: 1-64 letters, digits, `_` or `-`, or several such
   * segments joined with `.` (the key builder's rule).
   */
  namespace(value: unknown, option: string): string {
    if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})*$/.test(value)) {
      failOption(option, 'must be 1-64 letters, digits, _ or - (nested namespaces joined with .)', value);
    }
    return value;
  },

  /** An `AbortSignal`, or undefined. */
  signal(value: unknown, option: string): AbortSignal | undefined {
    if (value !== undefined && !(value instanceof AbortSignal)) failOption(option, 'must be an AbortSignal', value);
    return value as AbortSignal | undefined;
  },

  /** A function. */
  function<F extends (...args: never[]) => unknown>(value: unknown, option: string): F {
    if (typeof value !== 'function') failOption(option, 'must be a function', value);
    return value as F;
  },

  /** A plain options object (not null, not an array). */
  object<O extends object>(value: unknown, option: string): O {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      failOption(option, 'must be an object', value);
    return value as O;
  },

  /**
   * A client from `createRedis()`. Checked by shape (`run`, `runScript`,
   * `registerScripts`, `withBudget`, `keys`), so a client from a duplicate install of
   * core-client passes too, if it is recent enough.
   */
  strataRedis(value: unknown, option: string): StrataRedis {
    const candidate = value as Partial<StrataRedis> | null | undefined;
    if (
      typeof candidate !== 'object' ||
      candidate === null ||
      typeof candidate.run !== 'function' ||
      typeof candidate.runScript !== 'function' ||
      typeof candidate.registerScripts !== 'function' ||
      typeof candidate.withBudget !== 'function' ||
      typeof candidate.keys !== 'function'
    ) {
      failOption(option, 'must be a client from createRedis() of @stratacache/core-client', value);
    }
    return value as StrataRedis;
  },

  /**
   * A serializer: an object with `encode` and `decode` functions (`json()`,
   * `msgpack()` of @stratacache/serializers, or your own).
   */
  serializer<S extends { encode: (value: never) => unknown; decode: (bytes: never) => unknown }>(
    value: unknown,
    option: string,
  ): S {
    const candidate = value as Partial<S> | null | undefined;
    if (
      typeof candidate !== 'object' ||
      candidate === null ||
      typeof candidate.encode !== 'function' ||
      typeof candidate.decode !== 'function'
    ) {
      failOption(
        option,
        'must be a serializer with encode() and decode() (json(), msgpack() of @stratacache/serializers)',
        value,
      );
    }
    return value as S;
  },
});
