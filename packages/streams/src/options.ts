/**
 * Options of the window aggregator, resolved once into a frozen object; a bad
 * one throws `ConfigError` naming it.
 */
import { ConfigError, type Duration, type StrataRedis, toMs } from '@stratacache/core-client';
import type { StreamRecord, StreamSource } from './source.js';

/** Letters, digits, `_` and `-`: names that become key parts, hash fields and labels. */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** One window series: what to aggregate, over which windows. */
export interface WindowSpec {
  /** Name of the series: its keys' hash tag, its pub/sub topic, the read API's name. Letters, digits, `_`, `-`. */
  name: string;
  /** Window length (`'1m'`). Windows are aligned to the Unix epoch. */
  size: Duration;
  /** Distance between window starts; less than `size` gives hopping (overlapping) windows. @default size (tumbling) */
  hop?: Duration;
  /**
   * How long after a window's end records are still applied, measured on the
   * partition's watermark (the highest event time it has seen). Required:
   * there is no hidden default (`0` accepts nothing behind the watermark's window).
   */
  grace: Duration;
  /** How long a window is kept after its end, on the Redis clock; at least `grace`. Required. */
  retention: Duration;
  /** Numeric fields whose sum, min and max each window keeps (the count is always kept). @default [] */
  fields?: readonly string[];
  /** Fields whose values split every aggregate into a breakdown (`country` -> per country). @default [] */
  dimensions?: readonly string[];
  /** Fields whose distinct values each window counts with a HyperLogLog (about 0.81% error). @default [] */
  distinct?: readonly string[];
}

/** Bounded queue between the source and the writer. */
export interface QueueOptions {
  /** Most records queued or in flight; a delivery waits for room beyond it. @default 20000 */
  max?: number;
  /** The source pauses at this depth. @default 80% of max */
  highWater?: number;
  /** A paused source resumes at this depth. @default 40% of max */
  lowWater?: number;
}

/** How records are grouped into writes. */
export interface BatchOptions {
  /** Most records of one partition in one script call. @default 2000 */
  max?: number;
  /** How long to wait for a fuller batch once records are queued. @default '10ms' */
  linger?: Duration;
}

/** Backoff of retried Redis writes and commits. */
export interface RetryOptions {
  /** First delay; doubled per attempt, with jitter. @default '100ms' */
  baseDelay?: Duration;
  /** Longest delay. @default '5s' */
  maxDelay?: Duration;
}

/** Where an event's time comes from: a field of the value (ms, numeric string or ISO date), or a function. */
export type EventTime =
  | string
  | ((value: Readonly<Record<string, unknown>>, record: StreamRecord) => number | undefined);

/** Options of {@link createWindowAggregator}. */
export interface WindowAggregatorOptions {
  /** The client from `createRedis()` of @stratacache/core-client. Required. */
  redis: StrataRedis;
  /** Where records come from: `new RedisStreamSource(...)`, `new KafkaSource(...)`. Required. */
  source: StreamSource;
  /** The window series to maintain; at least one. Required. */
  windows: readonly WindowSpec[];
  /** Key namespace. @default 'streams' */
  namespace?: string;
  /** The event time of a record. @default 'time' (the `time` field) */
  time?: EventTime;
  /** @see QueueOptions */
  queue?: QueueOptions;
  /** @see BatchOptions */
  batch?: BatchOptions;
  /** @see RetryOptions */
  retry?: RetryOptions;
  /**
   * A partition that applied nothing for this long no longer holds back final
   * windows (its watermark is left out of the series' lowest). `0` never.
   * @default '5m'
   */
  idleTimeout?: Duration;
  /** Publish each window update on Redis pub/sub (`windows.<name>` in the namespace). @default true */
  publish?: boolean;
  /** How often the source's lag is polled (diagnostics and readiness). @default '5s' */
  lagInterval?: Duration;
  /** Readiness fails while the total lag is above this many records. @default 100000 */
  maxLag?: number;
  /** How long `stop()` waits for in-flight batches before leaving them for redelivery. @default '10s' */
  stopTimeout?: Duration;
}

/** A window series with every default applied. */
export interface ResolvedWindowSpec {
  readonly name: string;
  readonly sizeMs: number;
  readonly hopMs: number;
  readonly graceMs: number;
  readonly retentionMs: number;
  readonly fields: readonly string[];
  readonly dimensions: readonly string[];
  readonly distinct: readonly string[];
}

/** Options with every default applied. */
export interface ResolvedAggregatorOptions {
  readonly redis: StrataRedis;
  readonly source: StreamSource;
  readonly windows: readonly ResolvedWindowSpec[];
  readonly namespace: string;
  readonly time: (value: Readonly<Record<string, unknown>>, record: StreamRecord) => number | undefined;
  readonly queue: Readonly<Required<QueueOptions>>;
  readonly batch: { readonly max: number; readonly lingerMs: number };
  readonly retry: { readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly idleMs: number;
  readonly publish: boolean;
  readonly lagIntervalMs: number;
  readonly maxLag: number;
  readonly stopTimeoutMs: number;
}

function fail(option: string, message: string): never {
  throw new ConfigError(`${option} ${message}`, { context: { option } });
}

function positiveMs(value: Duration, option: string): number {
  const ms = toMs(value, option);
  if (ms <= 0) fail(option, `must be more than 0 ms; got ${JSON.stringify(value)}`);
  return ms;
}

function positiveInt(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    fail(option, `must be a positive integer; got ${JSON.stringify(value)}`);
  }
  return value;
}

function names(value: unknown, option: string): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value)) fail(option, 'must be an array of field names');
  for (const name of value) {
    if (typeof name !== 'string' || !NAME.test(name))
      fail(option, `must hold names of 1-64 letters, digits, _ or -; got ${JSON.stringify(name)}`);
  }
  if (new Set(value).size !== value.length) fail(option, 'must not repeat a name');
  return Object.freeze([...value]);
}

/** Resolves one window series (also used by the reader). */
export function resolveWindowSpec(spec: WindowSpec, option = 'windows[]'): ResolvedWindowSpec {
  if (typeof spec !== 'object' || spec === null) fail(option, 'must be an object');
  if (typeof spec.name !== 'string' || !NAME.test(spec.name))
    fail(`${option}.name`, `must be 1-64 letters, digits, _ or -; got ${JSON.stringify(spec.name)}`);
  const sizeMs = positiveMs(spec.size, `${option}.size`);
  const hopMs = spec.hop === undefined ? sizeMs : positiveMs(spec.hop, `${option}.hop`);
  if (hopMs > sizeMs) fail(`${option}.hop`, `must not exceed size (${sizeMs} ms); got ${hopMs} ms`);
  if (spec.grace === undefined) fail(`${option}.grace`, "is required (use 0 for none, or a duration such as '30s')");
  const graceMs = toMs(spec.grace, `${option}.grace`);
  if (spec.retention === undefined) fail(`${option}.retention`, "is required (a duration such as '1h')");
  const retentionMs = positiveMs(spec.retention, `${option}.retention`);
  if (retentionMs < graceMs)
    fail(`${option}.retention`, `must be at least grace (${graceMs} ms), or windows expire while they still change`);
  const fields = names(spec.fields, `${option}.fields`);
  const dimensions = names(spec.dimensions, `${option}.dimensions`);
  const distinct = names(spec.distinct, `${option}.distinct`);
  return Object.freeze({ name: spec.name, sizeMs, hopMs, graceMs, retentionMs, fields, dimensions, distinct });
}

/** Reads an event time from a field: a number of ms, a numeric string, or a date string. */
export function timeFromField(field: string): (value: Readonly<Record<string, unknown>>) => number | undefined {
  return (value) => {
    const raw = value[field];
    if (typeof raw === 'number') return raw;
    if (typeof raw === 'string' && raw !== '') {
      const n = Number(raw);
      return Number.isFinite(n) ? n : Date.parse(raw);
    }
    if (raw instanceof Date) return raw.getTime();
    return undefined;
  };
}

/** Resolves the aggregator's options once; throws `ConfigError` naming a bad one. */
export function resolveAggregatorOptions(options: WindowAggregatorOptions): ResolvedAggregatorOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'must be an object');
  const { redis, source } = options;
  if (!redis || typeof (redis as { run?: unknown }).run !== 'function')
    fail('redis', 'must be a client from createRedis() of @stratacache/core-client');
  if (!source || typeof source.start !== 'function' || typeof source.commit !== 'function')
    fail('source', 'must be a StreamSource (RedisStreamSource, KafkaSource or your own)');
  if (!Array.isArray(options.windows) || options.windows.length === 0)
    fail('windows', 'must list at least one window series');
  const windows = options.windows.map((spec, i) => resolveWindowSpec(spec, `windows[${i}]`));
  if (new Set(windows.map((w) => w.name)).size !== windows.length) fail('windows', 'must not repeat a name');

  const namespace = options.namespace ?? 'streams';
  if (typeof namespace !== 'string' || !/^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})*$/.test(namespace))
    fail('namespace', `must be names of letters, digits, _ or - joined by '.'; got ${JSON.stringify(namespace)}`);

  const time = options.time ?? 'time';
  let readTime: ResolvedAggregatorOptions['time'];
  if (typeof time === 'function') readTime = time;
  else if (typeof time === 'string' && time !== '') readTime = timeFromField(time);
  else fail('time', `must be a field name or a function; got ${JSON.stringify(time)}`);

  const max = positiveInt(options.queue?.max ?? 20_000, 'queue.max');
  const highWater = positiveInt(options.queue?.highWater ?? Math.max(1, Math.floor(max * 0.8)), 'queue.highWater');
  const lowWater = options.queue?.lowWater ?? Math.floor(max * 0.4);
  if (typeof lowWater !== 'number' || !Number.isInteger(lowWater) || lowWater < 0)
    fail('queue.lowWater', `must be a non-negative integer; got ${JSON.stringify(lowWater)}`);
  if (highWater > max) fail('queue.highWater', `must not exceed queue.max (${max}); got ${highWater}`);
  if (lowWater >= highWater) fail('queue.lowWater', `must be below queue.highWater (${highWater}); got ${lowWater}`);

  const batchMax = positiveInt(options.batch?.max ?? 2000, 'batch.max');
  const lingerMs = toMs(options.batch?.linger ?? '10ms', 'batch.linger');
  const baseDelayMs = positiveMs(options.retry?.baseDelay ?? '100ms', 'retry.baseDelay');
  const maxDelayMs = positiveMs(options.retry?.maxDelay ?? '5s', 'retry.maxDelay');
  if (maxDelayMs < baseDelayMs) fail('retry.maxDelay', `must be at least retry.baseDelay (${baseDelayMs} ms)`);
  const maxLag = options.maxLag ?? 100_000;
  if (typeof maxLag !== 'number' || !(maxLag >= 0)) fail('maxLag', `must be a number >= 0; got ${maxLag}`);
  if (options.publish !== undefined && typeof options.publish !== 'boolean')
    fail('publish', `must be a boolean; got ${JSON.stringify(options.publish)}`);

  return Object.freeze({
    redis,
    source,
    windows: Object.freeze(windows),
    namespace,
    time: readTime,
    queue: Object.freeze({ max, highWater, lowWater }),
    batch: Object.freeze({ max: batchMax, lingerMs }),
    retry: Object.freeze({ baseDelayMs, maxDelayMs }),
    idleMs: toMs(options.idleTimeout ?? '5m', 'idleTimeout'),
    publish: options.publish ?? true,
    lagIntervalMs: positiveMs(options.lagInterval ?? '5s', 'lagInterval'),
    maxLag,
    stopTimeoutMs: toMs(options.stopTimeout ?? '10s', 'stopTimeout'),
  });
}
