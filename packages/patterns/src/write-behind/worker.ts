/**
 * The worker of one WriteBehind: a loop that claims or reads a batch from the
 * journal, coalesces it per key, calls the writer with retries and backoff,
 * then acknowledges and deletes the entries (or parks them as dead letters).
 * It reports through the WriteBehind's events and the diagnostics channel.
 * The public class owns the lifecycle (`start`, `flush`, `close`); this file
 * owns everything that talks to the consumer group.
 */
import type { EventEmitter } from 'node:events';
import { type RedisConnection, WriteError } from '@stratacache/core-client';
import { publish } from '../diagnostics.js';
import type { WriteBehindEvents } from './events.js';
import {
  deadLetterFields,
  decodeEntry,
  describeUnreadable,
  entriesOfStream,
  parseEntries,
  type RawEntry,
  type WriteBehindEntry,
} from './journal.js';
import type { ResolvedWriteBehindOptions } from './options.js';

/** The message of anything thrown (Redis errors and writer errors alike). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the consumer-group loop of one WriteBehind. Internal: created by the
 * `WriteBehind` constructor, which passes itself as `events`.
 */
export class JournalWorker<T> {
  private loop: Promise<void> | undefined;
  private halted = false;
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

  /**
   * @param options the WriteBehind's resolved options
   * @param events the WriteBehind itself: the worker emits its public events on it
   */
  constructor(
    private readonly options: Readonly<ResolvedWriteBehindOptions<T>>,
    private readonly events: EventEmitter<WriteBehindEvents<T>>,
  ) {}

  /** True once {@link start} ran (and stays true after {@link stop}). */
  get started(): boolean {
    return this.loop !== undefined;
  }

  /** True once {@link stop} was called. */
  get stopped(): boolean {
    return this.halted;
  }

  /**
   * Creates the consumer group from the start of the journal (with the stream),
   * so writes made before any worker existed are flushed. An existing group is fine.
   */
  async ensureGroup(): Promise<void> {
    const opts = this.options;
    try {
      await opts.redis.run('xgroup', (c) => c.xgroup('CREATE', opts.journalKey, opts.group, '0', 'MKSTREAM'));
    } catch (error) {
      if (!/BUSYGROUP/.test(messageOf(error))) throw error;
    }
  }

  /** Starts the loop (once the group exists). */
  start(): void {
    this.loop = this.runLoop();
  }

  /**
   * Stops the loop after its current step, cutting every wait short (a batch in
   * its backoff is left pending, for another worker to claim after `claimIdle`),
   * and resolves when it has ended.
   */
  async stop(): Promise<void> {
    this.halted = true;
    for (const wake of [...this.sleepers]) wake();
    await this.loop;
  }

  /** Resolves after the worker's next pass (waking it from its poll wait), or after `maxWaitMs`. */
  nextIteration(maxWaitMs: number): Promise<void> {
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

  /** Removes this consumer from the group when it holds no pending entry (DELCONSUMER would drop them). */
  async leaveGroupIfIdle(): Promise<void> {
    const opts = this.options;
    const pending = (await opts.redis.run('xpending', (c) =>
      c.xpending(opts.journalKey, opts.group, '-', '+', 1, opts.consumer),
    )) as unknown[];
    if (pending.length === 0) {
      await opts.redis.run('xgroup', (c) => c.xgroup('DELCONSUMER', opts.journalKey, opts.group, opts.consumer));
    }
  }

  /** Waits `ms`; `poll` waits are cut short by flush(), every wait by stop(). */
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

  private endIteration(): void {
    const waiters = this.iterationWaiters;
    this.iterationWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private backoffDelay(attempt: number): number {
    const base = Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** Math.min(attempt - 1, 30));
    // Jitter keeps many workers that failed together from retrying together.
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  private async runLoop(): Promise<void> {
    let failures = 0;
    while (!this.halted) {
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
        // The group is gone (the journal was deleted, or the group destroyed): create it again and carry on.
        if (/NOGROUP/.test(messageOf(error))) await this.ensureGroup().catch(() => {});
        this.endIteration();
        if (!this.halted) await this.sleep(this.backoffDelay(failures));
        continue;
      }
      this.endIteration();
      if (!worked && !this.halted) await this.sleep(this.options.flushIntervalMs);
    }
    this.endIteration();
  }

  private reportError(error: unknown): void {
    publish('writeBehind', { ...this.metricsBase(), flushed: 0, failed: 0, error: messageOf(error) });
    // An 'error' event without a listener would throw and kill the loop.
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
  }

  private metricsBase() {
    const opts = this.options;
    return { namespace: opts.namespace, group: opts.group, consumer: opts.consumer, depth: this.lastDepth };
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
    const opts = this.options;
    const reply = (await opts.redis.run('xautoclaim', (c: RedisConnection) =>
      c.callBuffer(
        'XAUTOCLAIM',
        opts.journalKey,
        opts.group,
        opts.consumer,
        opts.claimIdleMs,
        this.claimCursor,
        'COUNT',
        opts.batchSize,
      ),
    )) as [Buffer, unknown, unknown?];
    this.claimCursor = String(reply[0]);
    // A full sweep of the pending list is done: look again after a while, not on every poll.
    if (this.claimCursor === '0-0') {
      this.nextClaimAt = Date.now() + Math.max(opts.flushIntervalMs, Math.min(opts.claimIdleMs / 2, 5000));
    }
    return parseEntries(reply[1]);
  }

  private async read(from: '0' | '>'): Promise<RawEntry[]> {
    const opts = this.options;
    // No BLOCK: the shared connection must never be held by a waiting read.
    const reply = await opts.redis.run('xreadgroup', (c: RedisConnection) =>
      c.callBuffer(
        'XREADGROUP',
        'GROUP',
        opts.group,
        opts.consumer,
        'COUNT',
        opts.batchSize,
        'STREAMS',
        opts.journalKey,
        from,
      ),
    );
    return parseEntries(entriesOfStream(reply));
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
          good.push(decodeEntry<T>(entry, this.options.serializer));
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
        await this.options.writer(batch.slice());
        break;
      } catch (error) {
        if (attempt >= this.options.maxAttempts) {
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
        if (this.events.listenerCount('retry') > 0) {
          this.events.emit('retry', { attempt, delayMs, error, entries: batch.length });
        }
        publish('writeBehind', { ...this.metricsBase(), flushed: 0, failed: ids.length, attempt });
        // Not cut short by flush(): a flush must not turn backoff into a hot retry loop.
        await this.sleep(delayMs, false);
        // Closing without a drain (close() after a failed flush): the entries stay
        // pending and another worker claims them after claimIdle.
        if (this.halted) return;
      }
    }
    const depth = await this.ackOrRemember(ids);
    if (this.events.listenerCount('flushed') > 0) {
      this.events.emit('flushed', { entries: batch, journaled: ids.length, attempts: attempt, depth });
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
    const opts = this.options;
    const results = await opts.redis.run('xack', async (c) => {
      const replies = await c
        .multi()
        .xack(opts.journalKey, opts.group, ...ids)
        .xdel(opts.journalKey, ...ids)
        .xlen(opts.journalKey)
        .exec();
      // Inside run(), so a failed command is mapped and counted like any other.
      for (const [error] of replies ?? []) if (error) throw error;
      return replies;
    });
    if (!results) throw new WriteError('The ack transaction was aborted', { context: { namespace: opts.namespace } });
    this.lastDepth = Number(results[2]?.[1]);
    return this.lastDepth;
  }

  /**
   * Copies entries to the dead-letter stream, then acks them: a crash in between
   * leaves them in both (a duplicate dead letter), never in neither.
   */
  private async deadLetter(raw: RawEntry[], reason: 'writer' | 'decode', error: unknown, attempts: number) {
    const opts = this.options;
    const record = {
      reason,
      message: messageOf(error).slice(0, 1000),
      attempts,
      consumer: opts.consumer,
      failedAt: Date.now(),
    };
    await opts.redis.run('xadd', async (c) => {
      const tx = c.multi();
      for (const entry of raw) tx.xadd(opts.deadKey, '*', ...deadLetterFields(entry, record));
      const replies = await tx.exec();
      for (const [e] of replies ?? []) if (e) throw e;
    });
    const ids = raw.map((r) => r.id);
    await this.ackOrRemember(ids);
    const entries = raw.map((r) => {
      try {
        return decodeEntry<T>(r, opts.serializer);
      } catch {
        return describeUnreadable<T>(r);
      }
    });
    publish('writeBehind', { ...this.metricsBase(), flushed: 0, failed: 0, deadLettered: raw.length, reason });
    if (this.events.listenerCount('dead-letter') > 0)
      this.events.emit('dead-letter', { entries, reason, error, attempts });
  }
}
