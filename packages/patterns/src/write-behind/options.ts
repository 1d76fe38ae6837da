/**
 * The options of `createWriteBehind`, and their resolution: checked once,
 * defaults applied, durations turned into ms and the Stream keys built, into a
 * frozen object the worker and the public class share. Every bad value throws
 * a `ConfigError` whose `context.option` names it.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ConfigError, type Duration, type StrataRedis, toMs } from '@stratacache/core-client';
import { json, type Serializer } from '@stratacache/serializers';
import type { WriteBehindEntry } from './journal.js';

/** Options of `createWriteBehind()`. Only `redis`, `namespace` and `writer` are required. */
export interface WriteBehindOptions<T> {
  /** The managed client (from `createRedis`). Not closed by `close()`. */
  redis: StrataRedis;
  /**
   * The key namespace. The journal is the Stream `redis.keys(namespace).key('wb', 'journal')`,
   * dead letters go to `key('wb', 'dead')`. Every instance with the same namespace and
   * group shares the work.
   * @example 'orders'
   */
  namespace: string;
  /**
   * Writes a batch to the source of truth. Delivery is at least once, so it must be
   * idempotent. Throwing retries the whole batch (with backoff), up to `maxAttempts`.
   * A batch holds at most one entry per key (the newest), in journal order.
   */
  writer: (batch: WriteBehindEntry<T>[]) => Promise<void>;
  /**
   * Encodes values in the journal. Any reader decodes any envelope, so changing it
   * later is safe.
   * @default json()
   */
  serializer?: Serializer;
  /**
   * Most journal entries read per batch (before coalescing).
   * @default 100
   */
  batchSize?: number;
  /**
   * How long the worker waits between polls when the journal is empty, in ms or a
   * string such as `'250ms'`. The worker polls without `BLOCK`: a blocking read would
   * need a connection of its own per instance, and would hold the shared one.
   * @default 100
   */
  flushInterval?: Duration;
  /**
   * Writer attempts per batch. After the last failure the batch is moved to the
   * dead-letter stream and a `'dead-letter'` event is emitted: never silently dropped.
   * @default 5
   */
  maxAttempts?: number;
  /**
   * Delay between writer attempts: `initial`, doubling up to `max`, each with jitter
   * (between half and all of it). Also paces the worker while Redis fails.
   * @default { initial: 100, max: '5s' }
   */
  backoff?: { initial?: Duration; max?: Duration };
  /**
   * Entries pending on a worker for longer than this are claimed by another
   * (`XAUTOCLAIM`, Redis >= 6.2): the recovery time after a crash. A writer call
   * (with its retries) that takes longer may be delivered twice.
   * @default '30s'
   */
  claimIdle?: Duration;
  /**
   * The consumer group name.
   * @default 'writers'
   */
  group?: string;
  /**
   * This worker's consumer name in the group; unique per instance.
   * @default `${hostname}:${pid}:${random}`
   */
  consumer?: string;
  /**
   * Most unflushed entries the journal may hold. A write beyond it is refused with a
   * `WriteError` (context `option: 'maxLength'`) rather than an entry being dropped.
   * @default 1_000_000
   */
  maxLength?: number;
}

/** Options of `flush()` and `close()`. */
export interface WriteBehindFlushOptions {
  /** Give up (with a `TimeoutError`) after this long. @default no limit */
  timeout?: Duration;
}

/** {@link WriteBehindOptions} resolved once: defaults applied, durations in ms, keys built. */
export interface ResolvedWriteBehindOptions<T> {
  /** See {@link WriteBehindOptions}; durations below are in ms. */
  redis: StrataRedis;
  namespace: string;
  writer: (batch: WriteBehindEntry<T>[]) => Promise<void>;
  serializer: Serializer;
  batchSize: number;
  flushIntervalMs: number;
  maxAttempts: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  claimIdleMs: number;
  group: string;
  consumer: string;
  maxLength: number;
  /** The journal Stream's key. */
  journalKey: string;
  /** The dead-letter Stream's key. */
  deadKey: string;
}

function positiveInteger(value: unknown, option: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigError(`${option} must be an integer from 1 to ${max}; got ${JSON.stringify(value)}`, {
      context: { option },
    });
  }
  return value;
}

function nonEmptyString(value: unknown, option: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigError(`${option} must be a non-empty string; got ${JSON.stringify(value)}`, {
      context: { option },
    });
  }
  return value;
}

function positiveDuration(value: Duration | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = toMs(value, option);
  if (ms < 1)
    throw new ConfigError(`${option} must be at least 1 ms; got ${JSON.stringify(value)}`, { context: { option } });
  return ms;
}

/**
 * Checks `options` and resolves them into a frozen {@link ResolvedWriteBehindOptions}.
 * Throws a `ConfigError` naming the first bad option.
 */
export function resolveWriteBehindOptions<T>(options: WriteBehindOptions<T>): Readonly<ResolvedWriteBehindOptions<T>> {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('createWriteBehind needs an options object with redis, namespace and writer');
  }
  const { redis } = options;
  if (
    typeof redis !== 'object' ||
    redis === null ||
    typeof redis.keys !== 'function' ||
    typeof redis.run !== 'function'
  ) {
    throw new ConfigError('redis must be a client from createRedis() of @stratacache/core-client', {
      context: { option: 'redis' },
    });
  }
  const namespace = nonEmptyString(options.namespace, 'namespace', '');
  if (!namespace) throw new ConfigError('namespace is required', { context: { option: 'namespace' } });
  let keys: ReturnType<StrataRedis['keys']>;
  try {
    keys = redis.keys(namespace);
  } catch (error) {
    throw new ConfigError(`namespace is not a valid key namespace: ${(error as Error).message}`, {
      cause: error,
      context: { option: 'namespace' },
    });
  }
  if (typeof options.writer !== 'function') {
    throw new ConfigError('writer must be a function (batch) => Promise<void>', { context: { option: 'writer' } });
  }
  const serializer = options.serializer ?? json();
  if (typeof serializer?.encode !== 'function' || typeof serializer?.decode !== 'function') {
    throw new ConfigError('serializer must have encode() and decode()', { context: { option: 'serializer' } });
  }
  if (options.backoff !== undefined && (typeof options.backoff !== 'object' || options.backoff === null)) {
    throw new ConfigError('backoff must be an object { initial, max }', { context: { option: 'backoff' } });
  }
  const backoffInitialMs = positiveDuration(options.backoff?.initial, 'backoff.initial', 100);
  const backoffMaxMs = positiveDuration(options.backoff?.max, 'backoff.max', Math.max(5000, backoffInitialMs));
  if (backoffMaxMs < backoffInitialMs) {
    throw new ConfigError(
      `backoff.max (${backoffMaxMs} ms) must not be below backoff.initial (${backoffInitialMs} ms)`,
      {
        context: { option: 'backoff.max' },
      },
    );
  }
  return Object.freeze({
    redis,
    namespace,
    writer: options.writer,
    serializer,
    // XREADGROUP COUNT and one MULTI of XACK + XDEL per batch: keep a batch a sane size.
    batchSize: positiveInteger(options.batchSize, 'batchSize', 100, 10_000),
    flushIntervalMs: positiveDuration(options.flushInterval, 'flushInterval', 100),
    maxAttempts: positiveInteger(options.maxAttempts, 'maxAttempts', 5, 1000),
    backoffInitialMs,
    backoffMaxMs,
    claimIdleMs: positiveDuration(options.claimIdle, 'claimIdle', 30_000),
    group: nonEmptyString(options.group, 'group', 'writers'),
    consumer: nonEmptyString(
      options.consumer,
      'consumer',
      // Unique per instance: two workers under one name would read each other's pending entries as their own.
      `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    ),
    maxLength: positiveInteger(options.maxLength, 'maxLength', 1_000_000),
    journalKey: keys.key('wb', 'journal'),
    deadKey: keys.key('wb', 'dead'),
  });
}
