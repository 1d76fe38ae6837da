/**
 * Write-behind with a durable journal. Every write is appended to a Redis
 * Stream before it is acknowledged to the caller; a consumer group of workers
 * (one per WriteBehind instance, in any number of processes) reads batches,
 * coalesces them per key, hands them to the application's writer with retries
 * and backoff, and only then acknowledges and deletes them. Entries a crashed
 * worker was holding are claimed by another after `claimIdle`. Delivery is at
 * least once, so the writer must be idempotent. See docs/write-behind.md.
 *
 * This file holds the public class: appending, the lifecycle (`start`,
 * `flush`, `close`) and the read-only views. The loop is in `worker.ts`, the
 * Stream fields in `journal.ts`, the options in `options.ts`.
 */
import { EventEmitter } from 'node:events';
import { KeyError, TimeoutError, toMs, WriteError } from '@stratacache/core-client';
import { luaScripts } from '../lua.generated.js';
import type { WriteBehindDeadLetterEvent, WriteBehindEvents } from './events.js';
import {
  appendArguments,
  compareJournalIds,
  decodeDeadLetter,
  parseEntries,
  type WriteBehindDeadLetter,
  type WriteBehindOp,
} from './journal.js';
import {
  type ResolvedWriteBehindOptions,
  resolveWriteBehindOptions,
  type WriteBehindFlushOptions,
  type WriteBehindOptions,
} from './options.js';
import { JournalWorker, messageOf } from './worker.js';

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
  private readonly worker: JournalWorker<T>;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(options: WriteBehindOptions<T>) {
    super();
    this.options = resolveWriteBehindOptions(options);
    this.worker = new JournalWorker<T>(this.options, this);
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
        await this.worker.ensureGroup();
      } catch (error) {
        // Forget the failed attempt, so a later start() tries again.
        this.starting = undefined;
        throw error;
      }
      this.worker.start();
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
  async flush({ timeout }: WriteBehindFlushOptions = {}): Promise<void> {
    const opts = this.options;
    await this.starting?.catch(() => {});
    if (!this.worker.started || this.worker.stopped) {
      throw new WriteError(
        `flush() needs a running worker: call start() first${this.worker.stopped ? ' (this one is closed)' : ''}.`,
        { context: { namespace: opts.namespace } },
      );
    }
    const timeoutMs = timeout === undefined ? undefined : toMs(timeout, 'timeout');
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    // Writes of this instance called before flush() count as "before the call".
    await Promise.allSettled([...this.inflight]);
    // The newest entry now is the target: entries journaled later are not this flush's business.
    const newest = await opts.redis.run('xrevrange', (c) => c.xrevrange(opts.journalKey, '+', '-', 'COUNT', 1));
    const target = newest[0]?.[0];
    if (target === undefined) return;
    const parked: WriteBehindDeadLetterEvent<T>[] = [];
    const onDead = (event: WriteBehindDeadLetterEvent<T>) => {
      if (event.entries.some((e) => compareJournalIds(e.id, target) <= 0)) parked.push(event);
    };
    this.on('dead-letter', onDead);
    try {
      for (;;) {
        // Done when nothing up to the target is left: acknowledged entries are deleted.
        const left = await opts.redis.run('xrange', (c) => c.xrange(opts.journalKey, '-', target, 'COUNT', 1));
        if (parked.length > 0) {
          const count = parked.reduce((n, e) => n + e.entries.length, 0);
          throw new WriteError(
            `${count} write-behind entries of namespace ${opts.namespace} were parked in the dead-letter stream ${opts.deadKey} (the writer failed ${opts.maxAttempts} times: ${messageOf(parked[0]?.error)}).`,
            { cause: parked[0]?.error, context: { namespace: opts.namespace, deadLettered: count } },
          );
        }
        if (left.length === 0) return;
        if (this.worker.stopped) {
          throw new WriteError(
            'The write-behind worker was closed before the flush finished; the entries stay journaled.',
          );
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new TimeoutError(
            `flush() did not finish within ${timeoutMs} ms; ${await this.depth().catch(() => '?')} entries are still journaled (they are not lost).`,
            { context: { namespace: opts.namespace } },
          );
        }
        await this.worker.nextIteration(remaining);
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
      if (this.worker.started && !this.worker.stopped) {
        try {
          await this.flush(options);
        } catch (error) {
          failure = error;
        }
      }
      await this.worker.stop();
      if (this.worker.started) await this.worker.leaveGroupIfIdle().catch(() => {});
      if (failure !== undefined) throw failure;
    })();
    return this.closing;
  }

  /** Entries journaled and not yet acknowledged (`XLEN`: acknowledged entries are deleted). */
  depth(): Promise<number> {
    return this.options.redis.run('xlen', (c) => c.xlen(this.options.journalKey));
  }

  /** Entries in the dead-letter stream. */
  deadLetterDepth(): Promise<number> {
    return this.options.redis.run('xlen', (c) => c.xlen(this.options.deadKey));
  }

  /** The oldest `count` dead letters (default 100), decoded where possible. */
  async deadLetters(count = 100): Promise<WriteBehindDeadLetter<T>[]> {
    const opts = this.options;
    const reply = await opts.redis.run('xrange', (c) => c.callBuffer('XRANGE', opts.deadKey, '-', '+', 'COUNT', count));
    return parseEntries(reply).map((raw) => decodeDeadLetter<T>(raw, opts.serializer));
  }

  private closedError(operation: string): WriteError {
    return new WriteError(`This WriteBehind is closed; ${operation}() needs a new one (createWriteBehind()).`, {
      context: { namespace: this.options.namespace },
    });
  }

  private append(key: string, op: WriteBehindOp, value: T | undefined): Promise<void> {
    if (this.closing) return Promise.reject(this.closedError(op === 'set' ? 'write' : 'delete'));
    if (typeof key !== 'string' || key.length === 0) {
      return Promise.reject(new KeyError(`A write-behind key must be a non-empty string; got ${JSON.stringify(key)}`));
    }
    const opts = this.options;
    const promise = (async () => {
      // Inside the async function, so a value the serializer refuses rejects rather than throws.
      const args = appendArguments(opts, { key, op, value, at: Date.now() });
      const reply = (await opts.redis.runScript(luaScripts.writeBehindAppend, [opts.journalKey], args)) as [
        number,
        string | number,
      ];
      if (reply[0] !== 1) {
        throw new WriteError(
          `The write-behind journal of namespace ${opts.namespace} holds ${reply[1]} unflushed entries (maxLength ${opts.maxLength}): the write was refused, nothing was dropped. The writer is behind or failing (see 'retry' and 'dead-letter' events); raise maxLength or add workers.`,
          { context: { option: 'maxLength', namespace: opts.namespace, depth: Number(reply[1]) } },
        );
      }
    })();
    // Tracked so flush() and close() wait for writes already called.
    this.inflight.add(promise);
    const untrack = () => this.inflight.delete(promise);
    promise.then(untrack, untrack);
    return promise;
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
