/**
 * Write-behind with a durable journal. Every write is appended to a Redis
 * Stream before it is acknowledged to the caller; a consumer group of workers
 * (one per WriteBehind instance, in any number of processes) reads batches,
 * coalesces them per key, hands them to the application's writer with retries
 * and backoff, and only then acknowledges and deletes them. Entries a crashed
 * worker was holding are claimed by another after `claimIdle`. Delivery is at
 * least once, so the writer must be idempotent. See docs/write-behind.md.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import {
  ConfigError,
  type Duration,
  KeyError,
  type RedisConnection,
  type StrataRedis,
  TimeoutError,
  toMs,
  WriteError,
} from '@stratacache/core-client';
import { json, type Serializer } from '@stratacache/serializers';
import { publish } from './diagnostics.js';
import { luaScripts } from './lua.generated.js';

/** What a journal entry asks the writer to do with its key. */
export type WriteBehindOp = 'set' | 'delete';

/** One write handed to the writer. */
export interface WriteBehindEntry<T> {
  /** The application key given to `write()` or `delete()`. */
  key: string;
  /** The value written; `undefined` for a delete. */
  value: T | undefined;
  /** `'set'` or `'delete'`. */
  op: WriteBehindOp;
  /** When the write was journaled, in ms since the epoch (the writing process's clock). */
  at: number;
  /**
   * The journal (Stream) id, such as `'1718000000000-3'`. Ids only grow within a
   * journal, so a writer that must never let an older value overwrite a newer one
   * (after a crash, or with several workers) stores it and compares with
   * {@link compareJournalIds}.
   */
  id: string;
}

/** Options of {@link createWriteBehind}. Only `redis`, `namespace` and `writer` are required. */
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

/** The `'flushed'` event: a batch was written and acknowledged. */
export interface WriteBehindFlushedEvent<T> {
  /** What the writer received (one entry per key). */
  entries: WriteBehindEntry<T>[];
  /** Journal entries acknowledged (before coalescing). */
  journaled: number;
  /** Writer attempts it took. */
  attempts: number;
  /** Unflushed entries left in the journal. */
  depth: number;
}

/** The `'retry'` event: the writer failed and will be called again. */
export interface WriteBehindRetryEvent {
  /** The failed attempt (1-based). */
  attempt: number;
  /** Wait before the next attempt, in ms. */
  delayMs: number;
  /** What the writer threw. */
  error: unknown;
  /** Entries in the batch. */
  entries: number;
}

/** The `'dead-letter'` event: entries were parked in the dead-letter stream. */
export interface WriteBehindDeadLetterEvent<T> {
  /** The parked entries, uncoalesced (value `undefined` where it could not be decoded). */
  entries: WriteBehindEntry<T>[];
  /** `'writer'`: the writer failed `maxAttempts` times; `'decode'`: the entry was unreadable. */
  reason: 'writer' | 'decode';
  /** The last error. */
  error: unknown;
  /** Writer attempts made (0 for `'decode'`). */
  attempts: number;
}

/** An entry of the dead-letter stream, as {@link WriteBehind.deadLetters} returns it. */
export interface WriteBehindDeadLetter<T> extends WriteBehindEntry<T> {
  /** Its id in the dead-letter stream (the journal id is `id`). */
  deadId: string;
  /** `'writer'` or `'decode'`. */
  reason: string;
  /** The last error's message. */
  error: string;
  /** Writer attempts made. */
  attempts: number;
  /** The consumer that parked it. */
  consumer: string;
  /** When it was parked, ms since the epoch. */
  failedAt: number;
}

/** Events of {@link WriteBehind}, as listener argument lists. */
export interface WriteBehindEvents<T> {
  /** The worker loop failed (usually Redis); it keeps going with backoff. */
  error: [error: unknown];
  flushed: [event: WriteBehindFlushedEvent<T>];
  retry: [event: WriteBehindRetryEvent];
  'dead-letter': [event: WriteBehindDeadLetterEvent<T>];
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

/** A journal entry as read: its id and fields (null when it was deleted while pending). */
interface RawEntry {
  id: string;
  fields: Map<string, Buffer> | null;
}

const OPS: Record<string, WriteBehindOp> = { s: 'set', d: 'delete' };

/**
 * Orders two journal ids (`ms-seq`): negative when `a` is older, 0 when equal,
 * positive when newer. For writers that keep the id as a version.
 */
export function compareJournalIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am === bm ? as - bs : am - bm;
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

function resolveOptions<T>(options: WriteBehindOptions<T>): Readonly<ResolvedWriteBehindOptions<T>> {
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
      `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    ),
    maxLength: positiveInteger(options.maxLength, 'maxLength', 1_000_000),
    journalKey: keys.key('wb', 'journal'),
    deadKey: keys.key('wb', 'dead'),
  });
}

/** Stream entries (`[[id, [field, value, ...] | null], ...]`) from a RESP2 reply. */
function parseEntries(list: unknown): RawEntry[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => {
    const [id, flat] = item as [Buffer | string, Buffer[] | null];
    let fields: Map<string, Buffer> | null = null;
    if (Array.isArray(flat)) {
      fields = new Map();
      for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), Buffer.from(flat[i + 1] as Buffer));
    }
    return { id: String(id), fields };
  });
}

/**
 * The entries of the one stream an XREADGROUP read: RESP2 answers
 * `[[key, entries]]`, RESP3 a map (`[key, entries]` flat, or a Map), null when empty.
 */
function entriesOfStream(reply: unknown): unknown {
  if (reply instanceof Map) return [...reply.values()][0];
  if (!Array.isArray(reply) || reply.length === 0) return [];
  return Array.isArray(reply[0]) ? (reply[0] as unknown[])[1] : reply[1];
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The durable write-behind journal. Create with {@link createWriteBehind},
 * `start()` it, then `write()`/`delete()`; `flush()` and `close()` drain.
 *
 * Events: `'flushed'`, `'retry'`, `'dead-letter'`, `'error'` (see {@link WriteBehindEvents}).
 * Metrics: `{ namespace, group, consumer, depth, flushed, failed, deadLettered }` on the
 * diagnostics channel `stratacache:patterns:write-behind` after each batch.
 */
export class WriteBehind<T> extends EventEmitter<WriteBehindEvents<T>> {
  /** Resolved options (frozen). */
  readonly options: Readonly<ResolvedWriteBehindOptions<T>>;
  private starting: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private stopped = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private wakeUp: (() => void) | undefined;
  private readonly sleepers = new Set<() => void>();
  private iterationWaiters: (() => void)[] = [];
  /** Ids written but not acknowledged because the ack failed; retried first. */
  private unacked: string[] = [];
  private claimCursor = '0-0';
  private nextClaimAt = 0;
  /** A restart under a fixed consumer name finds its own unacknowledged entries first. */
  private readOwnHistory = true;
  private lastDepth: number | undefined;

  constructor(options: WriteBehindOptions<T>) {
    super();
    this.options = resolveOptions(options);
  }

  /** This worker's consumer name in the group. */
  get consumer(): string {
    return this.options.consumer;
  }

  /**
   * Creates the consumer group (with the stream, from the start of the journal, so
   * writes made before any worker existed are flushed) and starts the worker loop.
   * Idempotent. Rejects with a `ConnectionError`/`TimeoutError` when Redis is down
   * (call it again later).
   */
  start(): Promise<void> {
    if (this.closing) return Promise.reject(this.closedError('start'));
    this.starting ??= (async () => {
      try {
        await this.ensureGroup();
      } catch (error) {
        this.starting = undefined;
        throw error;
      }
      this.loop = this.runLoop();
    })();
    return this.starting;
  }

  /**
   * Journals `value` for `key`. Resolves once the entry is in the journal (that is
   * the acknowledgement: it survives this process); the writer sees it later.
   * Rejects with `ConnectionError`/`TimeoutError` when Redis is down, `WriteError`
   * when the journal holds `maxLength` unflushed entries, `SerializationError` for a
   * value the serializer cannot encode.
   */
  write(key: string, value: T): Promise<void> {
    return this.append(key, 'set', value);
  }

  /** Journals a delete of `key`; resolves once it is in the journal. */
  delete(key: string): Promise<void> {
    return this.append(key, 'delete', undefined);
  }

  /**
   * Resolves when every entry in the journal when it was called (from any process)
   * has been written and acknowledged, by this worker or another. Rejects with a
   * `WriteError` when this worker parked any of them as dead letters, a
   * `TimeoutError` after `timeout`, or the Redis error when Redis fails.
   */
  async flush(options: WriteBehindFlushOptions = {}): Promise<void> {
    await this.starting?.catch(() => {});
    if (!this.loop || this.stopped) {
      throw new WriteError(
        `flush() needs a running worker: call start() first${this.stopped ? ' (this one is closed)' : ''}.`,
        { context: { namespace: this.options.namespace } },
      );
    }
    const timeoutMs = options.timeout === undefined ? undefined : toMs(options.timeout, 'timeout');
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    // Writes of this instance called before flush() count as "before the call".
    await Promise.allSettled([...this.inflight]);
    const newest = await this.o.redis.run('xrevrange', (c) => c.xrevrange(this.o.journalKey, '+', '-', 'COUNT', 1));
    const target = newest[0]?.[0];
    if (target === undefined) return;
    const parked: WriteBehindDeadLetterEvent<T>[] = [];
    const onDead = (event: WriteBehindDeadLetterEvent<T>) => {
      if (event.entries.some((e) => compareJournalIds(e.id, target) <= 0)) parked.push(event);
    };
    this.on('dead-letter', onDead);
    try {
      for (;;) {
        const left = await this.o.redis.run('xrange', (c) => c.xrange(this.o.journalKey, '-', target, 'COUNT', 1));
        if (parked.length > 0) {
          const count = parked.reduce((n, e) => n + e.entries.length, 0);
          throw new WriteError(
            `${count} write-behind entries of namespace ${this.o.namespace} were parked in the dead-letter stream ${this.o.deadKey} (the writer failed ${this.o.maxAttempts} times: ${messageOf(parked[0]?.error)}).`,
            { cause: parked[0]?.error, context: { namespace: this.o.namespace, deadLettered: count } },
          );
        }
        if (left.length === 0) return;
        if (this.stopped) {
          throw new WriteError(
            'The write-behind worker was closed before the flush finished; the entries stay journaled.',
          );
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new TimeoutError(
            `flush() did not finish within ${timeoutMs} ms; ${await this.depth().catch(() => '?')} entries are still journaled (they are not lost).`,
            { context: { namespace: this.o.namespace } },
          );
        }
        await this.nextIteration(remaining);
      }
    } finally {
      this.off('dead-letter', onDead);
    }
  }

  /**
   * Drains (waits for this instance's pending writes, then flushes), stops the worker
   * and leaves the group if it holds nothing. Idempotent; does not close `redis`.
   * Rejects when the drain failed (the entries stay journaled, or in the dead-letter
   * stream); the worker is stopped either way.
   */
  close(options: WriteBehindFlushOptions = {}): Promise<void> {
    this.closing ??= (async () => {
      await this.starting?.catch(() => {});
      await Promise.allSettled([...this.inflight]);
      let failure: unknown;
      if (this.loop && !this.stopped) {
        try {
          await this.flush(options);
        } catch (error) {
          failure = error;
        }
      }
      this.stopped = true;
      for (const wake of [...this.sleepers]) wake();
      await this.loop;
      if (this.loop) await this.leaveGroupIfIdle().catch(() => {});
      if (failure !== undefined) throw failure;
    })();
    return this.closing;
  }

  /** Entries journaled and not yet acknowledged (`XLEN`: acknowledged entries are deleted). */
  depth(): Promise<number> {
    return this.o.redis.run('xlen', (c) => c.xlen(this.o.journalKey));
  }

  /** Entries in the dead-letter stream. */
  deadLetterDepth(): Promise<number> {
    return this.o.redis.run('xlen', (c) => c.xlen(this.o.deadKey));
  }

  /** The oldest `count` dead letters (default 100), decoded where possible. */
  async deadLetters(count = 100): Promise<WriteBehindDeadLetter<T>[]> {
    const reply = await this.o.redis.run('xrange', (c) =>
      c.callBuffer('XRANGE', this.o.deadKey, '-', '+', 'COUNT', count),
    );
    return parseEntries(reply).map(({ id, fields }) => {
      const f = fields ?? new Map<string, Buffer>();
      const text = (name: string) => f.get(name)?.toString() ?? '';
      const op = OPS[text('o')] ?? 'set';
      let value: T | undefined;
      const raw = f.get('v');
      if (op === 'set' && raw) {
        try {
          value = this.o.serializer.decode(raw) as T;
        } catch {
          value = undefined;
        }
      }
      return {
        deadId: id,
        id: text('j'),
        key: text('k'),
        op,
        value,
        at: Number(text('t')),
        reason: text('r'),
        error: text('e'),
        attempts: Number(text('a')),
        consumer: text('c'),
        failedAt: Number(text('f')),
      };
    });
  }

  private get o(): Readonly<ResolvedWriteBehindOptions<T>> {
    return this.options;
  }

  private closedError(operation: string): WriteError {
    return new WriteError(`This WriteBehind is closed; ${operation}() needs a new one (createWriteBehind()).`, {
      context: { namespace: this.o.namespace },
    });
  }

  private append(key: string, op: WriteBehindOp, value: T | undefined): Promise<void> {
    if (this.closing) return Promise.reject(this.closedError(op === 'set' ? 'write' : 'delete'));
    if (typeof key !== 'string' || key.length === 0) {
      return Promise.reject(new KeyError(`A write-behind key must be a non-empty string; got ${JSON.stringify(key)}`));
    }
    const promise = (async () => {
      const payload = op === 'set' ? this.o.serializer.encode(value) : '';
      const reply = (await this.o.redis.runScript(
        luaScripts.writeBehindAppend,
        [this.o.journalKey],
        [this.o.maxLength, key, op === 'set' ? 's' : 'd', payload, Date.now()],
      )) as [number, string | number];
      if (reply[0] !== 1) {
        throw new WriteError(
          `The write-behind journal of namespace ${this.o.namespace} holds ${reply[1]} unflushed entries (maxLength ${this.o.maxLength}): the write was refused, nothing was dropped. The writer is behind or failing (see 'retry' and 'dead-letter' events); raise maxLength or add workers.`,
          { context: { option: 'maxLength', namespace: this.o.namespace, depth: Number(reply[1]) } },
        );
      }
    })();
    // Tracked so flush() and close() wait for writes already called.
    this.inflight.add(promise);
    const untrack = () => this.inflight.delete(promise);
    promise.then(untrack, untrack);
    return promise;
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.o.redis.run('xgroup', (c) => c.xgroup('CREATE', this.o.journalKey, this.o.group, '0', 'MKSTREAM'));
    } catch (error) {
      if (!/BUSYGROUP/.test(messageOf(error))) throw error;
    }
  }

  /** Waits `ms`; `poll` waits are cut short by flush(), every wait by close(). */
  private sleep(ms: number, poll = true): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
      if (poll) this.wakeUp = done;
    });
  }

  /** Resolves after the worker's next pass (waking it from its poll wait). */
  private nextIteration(maxWaitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.min(maxWaitMs, 2 ** 31 - 1));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.iterationWaiters.push(done);
      this.wakeUp?.();
    });
  }

  private endIteration(): void {
    const waiters = this.iterationWaiters;
    this.iterationWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private backoffDelay(attempt: number): number {
    const base = Math.min(this.o.backoffMaxMs, this.o.backoffInitialMs * 2 ** Math.min(attempt - 1, 30));
    // Jitter keeps many workers that failed together from retrying together.
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  private async runLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let worked = false;
      try {
        if (this.unacked.length > 0) await this.ackOrRemember(this.unacked.splice(0));
        const batch = await this.nextBatch();
        if (batch.length > 0) {
          await this.process(batch);
          worked = true;
        }
        failures = 0;
      } catch (error) {
        failures++;
        this.reportError(error);
        if (/NOGROUP/.test(messageOf(error))) await this.ensureGroup().catch(() => {});
        this.endIteration();
        if (!this.stopped) await this.sleep(this.backoffDelay(failures));
        continue;
      }
      this.endIteration();
      if (!worked && !this.stopped) await this.sleep(this.o.flushIntervalMs);
    }
    this.endIteration();
  }

  private reportError(error: unknown): void {
    publish('writeBehind', { ...this.metricsBase(), flushed: 0, failed: 0, error: messageOf(error) });
    // An 'error' event without a listener would throw and kill the loop.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private metricsBase() {
    return { namespace: this.o.namespace, group: this.o.group, consumer: this.o.consumer, depth: this.lastDepth };
  }

  private async nextBatch(): Promise<RawEntry[]> {
    if (Date.now() >= this.nextClaimAt) {
      const claimed = await this.claim();
      if (claimed.length > 0) return claimed;
    }
    if (this.readOwnHistory) {
      const own = await this.read('0');
      if (own.length > 0) return own;
      this.readOwnHistory = false;
    }
    return this.read('>');
  }

  /** Takes over entries idle on any consumer (a crashed one, or ourselves after a failed ack). */
  private async claim(): Promise<RawEntry[]> {
    const o = this.o;
    const reply = (await o.redis.run('xautoclaim', (c: RedisConnection) =>
      c.callBuffer(
        'XAUTOCLAIM',
        o.journalKey,
        o.group,
        o.consumer,
        o.claimIdleMs,
        this.claimCursor,
        'COUNT',
        o.batchSize,
      ),
    )) as [Buffer, unknown, unknown?];
    this.claimCursor = String(reply[0]);
    // A full sweep of the pending list is done: look again after a while, not on every poll.
    if (this.claimCursor === '0-0') {
      this.nextClaimAt = Date.now() + Math.max(o.flushIntervalMs, Math.min(o.claimIdleMs / 2, 5000));
    }
    return parseEntries(reply[1]);
  }

  private async read(from: '0' | '>'): Promise<RawEntry[]> {
    const o = this.o;
    // No BLOCK: the shared connection must never be held by a waiting read.
    const reply = await o.redis.run('xreadgroup', (c: RedisConnection) =>
      c.callBuffer('XREADGROUP', 'GROUP', o.group, o.consumer, 'COUNT', o.batchSize, 'STREAMS', o.journalKey, from),
    );
    return parseEntries(entriesOfStream(reply));
  }

  private decode(raw: RawEntry): WriteBehindEntry<T> {
    const f = raw.fields as Map<string, Buffer>;
    const key = f.get('k')?.toString();
    const op = OPS[f.get('o')?.toString() ?? ''];
    const at = Number(f.get('t')?.toString());
    if (!key || !op || !Number.isFinite(at)) throw new Error(`journal entry ${raw.id} is malformed`);
    const value = op === 'set' ? (this.o.serializer.decode(f.get('v') ?? Buffer.alloc(0)) as T) : undefined;
    return { key, value, op, at, id: raw.id };
  }

  private async process(raw: RawEntry[]): Promise<void> {
    const gone: string[] = [];
    const good: WriteBehindEntry<T>[] = [];
    const bad: { raw: RawEntry; error: unknown }[] = [];
    for (const entry of raw) {
      // Deleted while pending (already flushed by a worker we raced): only the ack is left.
      if (!entry.fields) gone.push(entry.id);
      else {
        try {
          good.push(this.decode(entry));
        } catch (error) {
          bad.push({ raw: entry, error });
        }
      }
    }
    if (gone.length > 0) await this.ack(gone);
    if (bad.length > 0) {
      await this.deadLetter(
        bad.map((b) => b.raw),
        'decode',
        bad[0]?.error,
        0,
      );
    }
    if (good.length === 0) return;

    // Newest entry per key wins; re-inserting moves the key to its newest position,
    // so the writer sees keys in the order of their last write.
    const latest = new Map<string, WriteBehindEntry<T>>();
    for (const entry of good) {
      latest.delete(entry.key);
      latest.set(entry.key, entry);
    }
    const batch = [...latest.values()];
    const ids = good.map((e) => e.id);

    let attempt = 1;
    for (; ; attempt++) {
      try {
        await this.o.writer(batch.slice());
        break;
      } catch (error) {
        if (attempt >= this.o.maxAttempts) {
          const parked = new Set(ids);
          await this.deadLetter(
            raw.filter((r) => parked.has(r.id)),
            'writer',
            error,
            attempt,
          );
          return;
        }
        const delayMs = this.backoffDelay(attempt);
        if (this.listenerCount('retry') > 0) {
          this.emit('retry', { attempt, delayMs, error, entries: batch.length });
        }
        publish('writeBehind', { ...this.metricsBase(), flushed: 0, failed: ids.length, attempt });
        // Not cut short by flush(): a flush must not turn backoff into a hot retry loop.
        await this.sleep(delayMs, false);
        // Closing without a drain (close() after a failed flush): the entries stay
        // pending and another worker claims them after claimIdle.
        if (this.stopped) return;
      }
    }
    const depth = await this.ackOrRemember(ids);
    if (this.listenerCount('flushed') > 0) {
      this.emit('flushed', { entries: batch, journaled: ids.length, attempts: attempt, depth });
    }
    publish('writeBehind', { ...this.metricsBase(), flushed: ids.length, failed: 0, coalesced: batch.length });
  }

  /** Acks after a successful write; a failed ack is retried first thing on the next pass. */
  private async ackOrRemember(ids: string[]): Promise<number> {
    try {
      return await this.ack(ids);
    } catch (error) {
      // Written but not acknowledged: retry the ack, never the write (claimIdle would redo it otherwise).
      this.unacked.push(...ids);
      throw error;
    }
  }

  /** XACK + XDEL in one transaction (one key, so Cluster-safe); returns the depth left. */
  private async ack(ids: string[]): Promise<number> {
    const o = this.o;
    const results = await o.redis.run('xack', async (c) => {
      const replies = await c
        .multi()
        .xack(o.journalKey, o.group, ...ids)
        .xdel(o.journalKey, ...ids)
        .xlen(o.journalKey)
        .exec();
      // Inside run(), so a failed command is mapped and counted like any other.
      for (const [error] of replies ?? []) if (error) throw error;
      return replies;
    });
    if (!results) throw new WriteError('The ack transaction was aborted', { context: { namespace: o.namespace } });
    this.lastDepth = Number(results[2]?.[1]);
    return this.lastDepth;
  }

  /**
   * Copies entries to the dead-letter stream, then acks them: a crash in between
   * leaves them in both (a duplicate dead letter), never in neither.
   */
  private async deadLetter(raw: RawEntry[], reason: 'writer' | 'decode', error: unknown, attempts: number) {
    const o = this.o;
    const now = Date.now();
    const message = messageOf(error).slice(0, 1000);
    await o.redis.run('xadd', async (c) => {
      const tx = c.multi();
      for (const entry of raw) {
        const f = entry.fields ?? new Map<string, Buffer>();
        tx.xadd(
          o.deadKey,
          '*',
          'j',
          entry.id,
          'k',
          f.get('k') ?? '',
          'o',
          f.get('o') ?? '',
          'v',
          f.get('v') ?? '',
          't',
          f.get('t') ?? '',
          'r',
          reason,
          'e',
          message,
          'a',
          attempts,
          'c',
          o.consumer,
          'f',
          now,
        );
      }
      const replies = await tx.exec();
      for (const [e] of replies ?? []) if (e) throw e;
    });
    const ids = raw.map((r) => r.id);
    await this.ackOrRemember(ids);
    const entries = raw.map((r) => {
      try {
        return this.decode(r);
      } catch {
        const f = r.fields;
        return {
          key: f?.get('k')?.toString() ?? '',
          value: undefined,
          op: OPS[f?.get('o')?.toString() ?? ''] ?? 'set',
          at: Number(f?.get('t')?.toString()),
          id: r.id,
        };
      }
    });
    publish('writeBehind', { ...this.metricsBase(), flushed: 0, failed: 0, deadLettered: raw.length, reason });
    if (this.listenerCount('dead-letter') > 0) this.emit('dead-letter', { entries, reason, error, attempts });
  }

  /** Removes this consumer from the group when it holds no pending entry (DELCONSUMER would drop them). */
  private async leaveGroupIfIdle(): Promise<void> {
    const o = this.o;
    const pending = (await o.redis.run('xpending', (c) =>
      c.xpending(o.journalKey, o.group, '-', '+', 1, o.consumer),
    )) as unknown[];
    if (pending.length === 0) {
      await o.redis.run('xgroup', (c) => c.xgroup('DELCONSUMER', o.journalKey, o.group, o.consumer));
    }
  }
}

/**
 * Creates a durable write-behind journal. Call `start()` to run its worker.
 *
 * @example
 * ```ts
 * const wb = createWriteBehind<User>({
 *   redis,
 *   namespace: 'users',
 *   writer: async (batch) => {
 *     for (const e of batch) {
 *       if (e.op === 'delete') await db.deleteUser(e.key);
 *       else await db.upsertUser(e.key, e.value!);
 *     }
 *   },
 * });
 * await wb.start();
 * await wb.write('42', { name: 'Ada' }); // durable from here on
 * await wb.close();                      // drains, then stops
 * ```
 */
export function createWriteBehind<T>(options: WriteBehindOptions<T>): WriteBehind<T> {
  return new WriteBehind<T>(options);
}
