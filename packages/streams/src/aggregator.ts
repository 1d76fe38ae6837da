/**
 * The window aggregator: takes batches from a source into a bounded queue,
 * applies each partition batch to every series with one atomic script per
 * series, commits to the source only after every script succeeded, and
 * retries (without committing) while Redis fails.
 */
import { EventEmitter } from 'node:events';
import type { Subscription } from '@stratacache/core-client';
import { accumulate } from './accumulate.js';
import { type ApplyResult, runApply } from './apply-script.js';
import { publish } from './diagnostics.js';
import type { HealthChecks } from './health.js';
import { type ResolvedAggregatorOptions, resolveAggregatorOptions, type WindowAggregatorOptions } from './options.js';
import { PartitionStates } from './partition-states.js';
import { BoundedQueue, type PartitionLane } from './queue.js';
import { type RecentQuery, WindowReader, type WindowResult, type WindowUpdate } from './reader.js';
import { addOutcomes, combineOutcomes, emptyCounts, type RecordCounts } from './record-counts.js';
import { Abandoned, type RetryPolicy, retrying, sleep } from './retry.js';
import { SeriesKeys } from './series.js';
import type { PartitionLag, ResumePoint, SourcePartition, StreamRecord } from './source.js';

/** What `stats()` returns. */
export interface AggregatorStats {
  /** Per record, across series: applied if any series applied it, duplicate if every series had. */
  totals: RecordCounts;
  /** Per series: a record dropped by one series and applied by another shows here. */
  windows: Record<string, RecordCounts>;
  /** Records queued or in flight, and whether the source is paused. */
  queue: { depth: number; paused: boolean };
  /** Partition batches committed. */
  batches: number;
  /**
   * Script calls that Redis answered "already applied": a retried write whose first
   * attempt had succeeded (its reply lost to a timeout), or another consumer got there first.
   */
  replayedBatches: number;
  /** Failed attempts (retried) by operation. */
  failures: Record<string, number>;
}

/** Events of {@link WindowAggregator}. */
export interface WindowAggregatorEvents {
  /** A failure being retried (the same as the `error` diagnostics channel). */
  error: [{ operation: string; error: unknown }];
  /** A window was updated (or became final) by this instance. */
  window: [WindowUpdate];
}

/** Create with {@link createWindowAggregator}, then `start()`; `stop()` when done. */
export class WindowAggregator extends EventEmitter<WindowAggregatorEvents> {
  /** Resolved options (frozen). */
  readonly options: ResolvedAggregatorOptions;
  /** The read side over the same series. */
  readonly reader: WindowReader;
  private readonly series: SeriesKeys[];
  private readonly states: PartitionStates;
  private readonly queue: BoundedQueue;
  private readonly revoked = new Set<string>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly controller = new AbortController();
  private readonly counts = { totals: emptyCounts(), windows: {} as Record<string, RecordCounts> };
  private readonly failures: Record<string, number> = {};
  private batches = 0;
  private replayedBatches = 0;
  private lastLag: PartitionLag[] | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private running = false;

  constructor(options: WindowAggregatorOptions) {
    super();
    this.options = resolveAggregatorOptions(options);
    const o = this.options;
    const keys = o.redis.keys(o.namespace);
    this.series = o.windows.map((spec) => new SeriesKeys(keys, spec));
    for (const spec of o.windows) this.counts.windows[spec.name] = emptyCounts();
    this.reader = new WindowReader(o.redis, o.windows, o.namespace);
    this.states = new PartitionStates(o.redis, this.series);
    const source = o.source;
    this.queue = new BoundedQueue(o.queue, {
      pause: () => source.pause(),
      resume: () => source.resume(),
      depth: (depth, paused) => publish('queue', { source: source.name, depth, paused }),
    });
  }

  /** True between `start()` and `stop()`. */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Starts the source and the writer. Idempotent. Rejects if the source cannot
   * start (a Kafka broker unreachable); the aggregator is then stopped: create a new one.
   */
  start(): Promise<void> {
    this.starting ??= (async () => {
      const o = this.options;
      this.running = true;
      this.loop = this.run();
      try {
        await o.source.start({
          deliver: (batch) => this.queue.offer(batch, () => this.controller.signal.aborted),
          assigned: (partitions) => this.assign(partitions),
          revoked: (partitions) => this.revoke(partitions),
          error: (operation, error) => this.failed(operation, error),
        });
      } catch (error) {
        this.controller.abort();
        this.queue.wakeAll();
        await this.loop;
        await o.source.stop().catch(() => {});
        this.running = false;
        throw error;
      }
      this.lagTimer = setInterval(() => void this.pollLag(), o.lagIntervalMs);
      this.lagTimer.unref();
    })();
    return this.starting;
  }

  /**
   * Stops reading, waits up to `stopTimeout` for batches in flight, then stops
   * the source. What was not committed is delivered again later and recognised.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const o = this.options;
      clearInterval(this.lagTimer);
      o.source.pause();
      const drained = Promise.all([...this.inflight]);
      await Promise.race([drained, sleep(o.stopTimeoutMs)]);
      this.controller.abort();
      this.queue.wakeAll();
      await this.loop;
      await o.source.stop();
      this.running = false;
    })();
    return this.stopping;
  }

  /** The last `count` windows of a series, or those starting at or after `since`, oldest first. */
  recent(name: string, query: RecentQuery): Promise<WindowResult[]> {
    return this.reader.recent(name, query);
  }

  /** One window by its start (ms), or `undefined`. */
  window(name: string, start: number): Promise<WindowResult | undefined> {
    return this.reader.window(name, start);
  }

  /** Updates of a series from pub/sub (from every aggregator writing it). */
  subscribe(name: string, handler: (update: WindowUpdate) => void): Promise<Subscription> {
    return this.reader.subscribe(name, handler);
  }

  /** Counts since start. */
  stats(): AggregatorStats {
    const copy = (c: RecordCounts) => ({ ...c });
    return {
      totals: copy(this.counts.totals),
      windows: Object.fromEntries(Object.entries(this.counts.windows).map(([k, v]) => [k, copy(v)])),
      queue: { depth: this.queue.depth, paused: this.queue.isPaused },
      batches: this.batches,
      replayedBatches: this.replayedBatches,
      failures: { ...this.failures },
    };
  }

  /** The last polled lag per partition (`undefined` before the first poll). */
  lag(): PartitionLag[] | undefined {
    return this.lastLag;
  }

  /**
   * Checks in the shape of `@stratacache/metrics`' `createHealth({ checks })`:
   * live `redis` (PING answers) and `aggregator` (started, not stopped); ready
   * `source` (connected, partitions assigned), `lag` (below `maxLag`) and
   * `breaker` (core-client's circuit breaker closed).
   */
  healthChecks(): HealthChecks {
    const o = this.options;
    return {
      live: {
        redis: async (signal) => {
          const started = performance.now();
          const aborted = new Promise<never>((_, reject) =>
            signal.addEventListener('abort', () => reject(new Error('PING timed out')), { once: true }),
          );
          await Promise.race([o.redis.run('ping', (c) => c.ping()), aborted]);
          return { ok: true, detail: { latencyMs: Math.round((performance.now() - started) * 100) / 100 } };
        },
        aggregator: async () => ({ ok: this.running && !this.controller.signal.aborted }),
      },
      ready: {
        source: async () => {
          const status = o.source.status();
          return { ok: status.connected && status.assigned > 0, detail: { ...status } };
        },
        lag: async () => {
          const lag = this.lastLag ?? (await this.pollLag());
          if (!lag) return { ok: false, detail: { reason: 'lag unknown' } };
          const total = lag.reduce((sum, p) => sum + p.lag, 0);
          return { ok: total <= o.maxLag, detail: { lag: total, maxLag: o.maxLag } };
        },
        breaker: async () => {
          const state = o.redis.breaker?.state ?? 'closed';
          return { ok: state === 'closed', detail: { state } };
        },
      },
    };
  }

  private async pollLag(): Promise<PartitionLag[] | undefined> {
    const o = this.options;
    try {
      const lag = await o.source.lag();
      this.lastLag = lag;
      for (const p of lag)
        publish('lag', { source: o.source.name, topic: p.topic, partition: p.partition, lag: p.lag });
      return lag;
    } catch (error) {
      this.failed('lag', error);
      return undefined;
    }
  }

  private policy(partitionId?: string): RetryPolicy {
    const { retry } = this.options;
    return {
      ...retry,
      signal: this.controller.signal,
      abandon: partitionId === undefined ? undefined : () => this.revoked.has(partitionId),
      onError: (operation, error) => this.failed(operation, error),
    };
  }

  private failed(operation: string, error: unknown): void {
    this.failures[operation] = (this.failures[operation] ?? 0) + 1;
    publish('error', { source: this.options.source.name, operation, error });
    if (this.listenerCount('error') > 0) this.emit('error', { operation, error });
  }

  private async assign(partitions: readonly SourcePartition[]): Promise<ResumePoint[]> {
    for (const p of partitions) this.revoked.delete(p.id);
    const through = await retrying('load-offsets', () => this.states.load(partitions.map((p) => p.id)), this.policy());
    return partitions.map((partition) => ({ partition, appliedThrough: through.get(partition.id) }));
  }

  private revoke(partitions: readonly SourcePartition[]): void {
    for (const p of partitions) {
      this.revoked.add(p.id);
      this.queue.drop(p.id);
      this.states.forget(p.id);
    }
  }

  private async run(): Promise<void> {
    const { batch } = this.options;
    const signal = this.controller.signal;
    while (!signal.aborted) {
      await this.queue.waitForWork(250);
      if (signal.aborted || !this.queue.hasWork()) continue;
      // Linger for a fuller batch unless one is already there.
      if (batch.lingerMs > 0 && this.queue.waiting < batch.max) await sleep(batch.lingerMs, signal);
      for (const { lane, records } of this.queue.take(batch.max)) {
        const work = this.process(lane, records).finally(() => this.inflight.delete(work));
        this.inflight.add(work);
      }
    }
    await Promise.all([...this.inflight]);
  }

  /** Applies one chunk of one partition to every series, then commits it. */
  private async process(lane: PartitionLane, records: StreamRecord[]): Promise<void> {
    const o = this.options;
    const { partition } = lane;
    const started = performance.now();
    try {
      const times = records.map((record) => this.eventTime(record));
      const now = Date.now();
      const outcomes = await Promise.all(this.series.map((s) => this.applySeries(s, partition, records, times, now)));
      await retrying('commit', () => o.source.commit(partition, records), this.policy(partition.id));
      this.batches++;
      const counts = this.count(outcomes, records.length);
      const last = records[records.length - 1] as StreamRecord;
      publish('commit', {
        source: o.source.name,
        topic: partition.topic,
        partition: partition.partition,
        offset: last.offset,
      });
      publish('batch', { source: o.source.name, ...counts, durationMs: performance.now() - started });
    } catch (error) {
      // Abandoned (stop, revoked): nothing committed, the source delivers these records again.
      if (!(error instanceof Abandoned)) this.failed('process', error);
    } finally {
      this.queue.done(lane, records.length);
    }
  }

  private eventTime(record: StreamRecord): number {
    if (record.value === undefined) return Number.NaN;
    try {
      const time = this.options.time(record.value, record);
      return typeof time === 'number' ? time : Number.NaN;
    } catch {
      return Number.NaN;
    }
  }

  /** Applies a chunk to one series until Redis has it; returns each record's outcome. */
  private async applySeries(
    series: SeriesKeys,
    partition: SourcePartition,
    records: StreamRecord[],
    times: number[],
    now: number,
  ): Promise<Uint8Array> {
    const o = this.options;
    const policy = this.policy(partition.id);
    for (;;) {
      const state = await retrying('load-offsets', () => this.states.get(series, partition.id), policy);
      const deltas = accumulate(series.spec, records, times, state, now);
      if (deltas.lastOffset === undefined) return deltas.outcomes;
      const previous = state.offset;
      const result: ApplyResult = await retrying(
        'apply',
        () => runApply(o.redis, series, partition.id, previous, deltas, { idleMs: o.idleMs, publish: o.publish }),
        policy,
      );
      if (result.kind === 'ok') {
        state.offset = deltas.lastOffset;
        state.watermark = deltas.watermark;
        this.announce(series, result.updated, result.finals);
        return deltas.outcomes;
      }
      // A replay (`dup`) or another writer moved the partition (`stale`): reload and judge again.
      if (result.kind === 'dup') this.replayedBatches++;
      this.states.forgetOne(series, partition.id);
    }
  }

  private announce(series: SeriesKeys, updated: number[], finals: number[]): void {
    const name = series.spec.name;
    const final = new Set(finals);
    const updates: WindowUpdate[] = [
      ...updated.filter((start) => !final.has(start)).map((start) => ({ name, start, final: false })),
      ...finals.map((start) => ({ name, start, final: true })),
    ];
    for (const update of updates) {
      publish('window', { ...update });
      if (this.listenerCount('window') > 0) this.emit('window', update);
    }
  }

  private count(outcomes: Uint8Array[], n: number): RecordCounts {
    const totals = combineOutcomes(outcomes, n);
    this.series.forEach((series, s) => {
      addOutcomes(this.counts.windows[series.spec.name] as RecordCounts, outcomes[s] as Uint8Array);
    });
    const t = this.counts.totals;
    for (const key of Object.keys(totals) as (keyof RecordCounts)[]) t[key] += totals[key];
    return totals;
  }
}

/**
 * Creates a window aggregator. Throws `ConfigError` (E_CONFIG) naming a bad option.
 *
 * @example
 * ```ts
 * const aggregator = createWindowAggregator({
 *   redis,
 *   source: new RedisStreamSource({ redis, stream: 'orders', group: 'windows' }),
 *   windows: [{ name: 'orders-1m', size: '1m', grace: '10s', retention: '1h', fields: ['amount'] }],
 * });
 * await aggregator.start();
 * ```
 */
export function createWindowAggregator(options: WindowAggregatorOptions): WindowAggregator {
  return new WindowAggregator(options);
}
