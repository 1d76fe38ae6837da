/**
 * Records from Redis Streams through a consumer group: XREADGROUP (own
 * pending entries first, then new ones; own pending ones again after a read
 * failed, as it may have run with its reply lost), XACK after the aggregator applied
 * them, and the idle pending entries of a consumer that stopped, claimed
 * back to that consumer's name and applied under its partition, in ID order:
 * from its oldest pending entry, never past one that another claim holds (a
 * claimer's, or a claim of this source whose reply was lost).
 *
 * A partition here is what one consumer received from one stream: entry IDs
 * only grow within it, which is what makes a replay recognisable. Entries of
 * a stopped consumer are claimed with XCLAIM *to the same consumer name* (not
 * XAUTOCLAIM to ours): XAUTOCLAIM does not say whose entries it took, and the
 * offsets they must be checked against are that consumer's.
 */
import { hostname } from 'node:os';
import {
  ConfigError,
  type Duration,
  mapRedisError,
  parseGroupsReply,
  parsePendingReply,
  parseStreamEntries,
  parseStreamsReply,
  type RedisConnection,
  type StrataRedis,
  type StreamEntry,
  toMs,
} from '@stratacache/core-client';
import { backoffDelay, sleep } from './retry.js';
import type {
  PartitionLag,
  SourceHandlers,
  SourcePartition,
  SourceStatus,
  StreamRecord,
  StreamSource,
} from './source.js';
import { compareOffsets } from './windows.js';

/** Options of {@link RedisStreamSource}. */
export interface RedisStreamSourceOptions {
  /** The client from `createRedis()`; a duplicate connection is opened for blocking reads. Required. */
  redis: StrataRedis;
  /** Stream key(s), exactly as producers write them. Required. */
  stream: string | readonly string[];
  /** Consumer group; created (with MKSTREAM) when missing. Required. */
  group: string;
  /**
   * This consumer's name in the group. Keep it stable across restarts (a
   * restarted consumer then resumes its own pending entries at once; under a
   * new name they are claimed after `claimIdle`).
   * @default os.hostname()
   */
  consumer?: string;
  /** Diagnostics label. @default 'redis-stream' */
  name?: string;
  /** Entries per XREADGROUP. @default 1000 */
  readCount?: number;
  /** How long one XREADGROUP waits for new entries. @default '1s' */
  block?: Duration;
  /** Another consumer's entry pending this long is claimed. @default '30s' */
  claimIdle?: Duration;
  /** How often pending entries of other consumers are checked. @default '10s' */
  claimInterval?: Duration;
  /** Where a new group starts: `'0'` (the whole stream) or `'$'` (only new entries). @default '0' */
  startId?: string;
  /** A field holding the event as JSON; without it the entry's fields are the event (values as strings). */
  payloadField?: string;
  /** Backoff of failed reads: first and longest delay. @default { baseDelay: '100ms', maxDelay: '5s' } */
  retry?: { baseDelay?: Duration; maxDelay?: Duration };
}

/** The default source: Redis Streams with a consumer group. */
export class RedisStreamSource implements StreamSource {
  readonly name: string;
  /** This consumer's name in the group. */
  readonly consumer: string;
  readonly streams: readonly string[];
  readonly group: string;
  private readonly redis: StrataRedis;
  private readonly readCount: number;
  private readonly blockMs: number;
  private readonly claimIdleMs: number;
  private readonly claimIntervalMs: number;
  private readonly startId: string;
  private readonly payloadField: string | undefined;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private reader: RedisConnection | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopper = new AbortController();
  private paused = false;
  private wake: (() => void) | undefined;
  private nextClaim = 0;
  private ready = false;
  /** Per stream, the last entry ID this consumer's own reads delivered (entries only grow in ID). */
  private readonly delivered = new Map<string, string>();
  /** Per partition of another consumer, the last entry ID this source claimed and delivered. */
  private readonly claimedThrough = new Map<string, string>();

  constructor(options: RedisStreamSourceOptions) {
    const fail = (option: string, message: string): never => {
      throw new ConfigError(`${option} ${message}`, { context: { option } });
    };
    if (!options || typeof options.redis?.run !== 'function')
      fail('redis', 'must be a client from createRedis() of @stratacache/core-client');
    const streams = typeof options.stream === 'string' ? [options.stream] : options.stream;
    if (!Array.isArray(streams) || streams.length === 0 || streams.some((s) => typeof s !== 'string' || s === ''))
      fail('stream', 'must be a stream key or a non-empty list of them');
    if (new Set(streams).size !== streams.length) fail('stream', 'must not repeat a key');
    if (typeof options.group !== 'string' || options.group === '') fail('group', 'must be a non-empty string');
    const consumer = options.consumer ?? hostname();
    if (typeof consumer !== 'string' || consumer === '') fail('consumer', 'must be a non-empty string');
    const readCount = options.readCount ?? 1000;
    if (!Number.isInteger(readCount) || readCount <= 0)
      fail('readCount', `must be a positive integer; got ${readCount}`);
    this.redis = options.redis;
    this.streams = Object.freeze([...streams]);
    this.group = options.group;
    this.consumer = consumer;
    this.name = options.name ?? 'redis-stream';
    this.readCount = readCount;
    this.blockMs = toMs(options.block ?? '1s', 'block');
    this.claimIdleMs = toMs(options.claimIdle ?? '30s', 'claimIdle');
    this.claimIntervalMs = toMs(options.claimInterval ?? '10s', 'claimInterval');
    this.startId = options.startId ?? '0';
    this.payloadField = options.payloadField;
    this.baseDelayMs = toMs(options.retry?.baseDelay ?? '100ms', 'retry.baseDelay');
    this.maxDelayMs = toMs(options.retry?.maxDelay ?? '5s', 'retry.maxDelay');
  }

  /** The partition of the entries `consumer` received from `stream`. */
  partitionOf(stream: string, consumer: string): SourcePartition {
    // The consumer part cannot hold a '|', so the last '|' separates: distinct pairs give distinct ids.
    const id = `${stream}|${consumer.replaceAll('%', '%25').replaceAll('|', '%7C')}`;
    return { id, topic: stream, partition: 0 };
  }

  async start(handlers: SourceHandlers): Promise<void> {
    if (this.loop) return;
    const o = this.redis.options;
    // A blocking read holds its connection: never the shared one. Its timeout covers the BLOCK.
    this.reader = this.redis.duplicate('streams-reader', {
      commandTimeout: this.blockMs + o.commandTimeoutMs,
      // ioredis 5 resolves a blocking command with null once BLOCK plus this grace has passed, as if
      // it found nothing. When Redis is stalled, the read still runs later and gives its entries to
      // this consumer with the reply lost, and the null would not send us back to our own pending
      // entries (a failed read does). So that timer must never fire first: the command timeout
      // above, a rejection, ends a stalled read instead. (ioredis 6 has no such timer.)
      ...({ blockingTimeoutGrace: 2_000_000_000 } as Record<string, unknown>),
    });
    this.nextClaim = Date.now() + Math.min(this.claimIntervalMs, this.claimIdleMs);
    this.loop = this.run(handlers);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  async commit(partition: SourcePartition, records: readonly StreamRecord[]): Promise<void> {
    if (records.length === 0) return;
    const ids = records.map((r) => r.offset);
    await this.redis.run('xack', (c) => c.xack(partition.topic, this.group, ...ids));
  }

  async lag(): Promise<PartitionLag[]> {
    return Promise.all(
      this.streams.map(async (stream) => {
        const groups = parseGroupsReply(await this.redis.run('xinfo', (c) => c.call('XINFO', 'GROUPS', stream)));
        const mine = groups.find((g) => g.name === this.group);
        let undelivered = mine?.lag ?? null;
        // Redis cannot count after some deletions: the stream's length is the safe upper bound.
        if (undelivered === null) undelivered = await this.redis.run('xlen', (c) => c.xlen(stream));
        return { topic: stream, partition: 0, lag: undelivered + (mine?.pending ?? 0) };
      }),
    );
  }

  status(): SourceStatus {
    return {
      connected: this.ready && this.reader?.status === 'ready',
      assigned: this.ready ? this.streams.length : 0,
      paused: this.paused,
    };
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    this.wake?.();
    // Ends a BLOCKed read at once; its rejection is seen as the stop it is.
    this.reader?.disconnect();
    await this.loop;
    this.ready = false;
  }

  private get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  private async run(handlers: SourceHandlers): Promise<void> {
    let failures = 0;
    const failed = async (operation: string, error: unknown) => {
      handlers.error(operation, mapRedisError(error, operation));
      failures++;
      await sleep(backoffDelay(failures, this.baseDelayMs, this.maxDelayMs), this.stopper.signal);
    };
    while (!this.stopped && !this.ready) {
      try {
        await this.createGroups();
        await handlers.assigned(this.streams.map((s) => this.partitionOf(s, this.consumer)));
        this.ready = true;
      } catch (error) {
        if (!this.stopped) await failed('create-group', error);
      }
    }
    // Own pending entries first (a restart under the same name), then new ones.
    const cursors = new Map<string, string>(this.streams.map((s) => [s, '0']));
    while (!this.stopped) {
      if (this.paused) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        continue;
      }
      try {
        if (Date.now() >= this.nextClaim) {
          this.nextClaim = Date.now() + this.claimIntervalMs;
          await this.claim(handlers);
        }
        await this.read(handlers, cursors);
        failures = 0;
      } catch (error) {
        if (!this.stopped) await failed('read', error);
      }
    }
  }

  private async createGroups(): Promise<void> {
    for (const stream of this.streams) {
      try {
        await this.redis.run('xgroup', (c) => c.xgroup('CREATE', stream, this.group, this.startId, 'MKSTREAM'));
      } catch (error) {
        if (!String((error as Error)?.message).includes('BUSYGROUP')) throw error;
      }
    }
  }

  private async read(handlers: SourceHandlers, cursors: Map<string, string>): Promise<void> {
    const reader = this.reader as RedisConnection;
    const ids = this.streams.map((s) => cursors.get(s) ?? '>');
    const history = ids.some((id) => id !== '>');
    const args: (string | number)[] = ['GROUP', this.group, this.consumer, 'COUNT', this.readCount];
    // Pending entries are there or not: only a read of new entries waits.
    if (!history) args.push('BLOCK', this.blockMs);
    let byStream: Map<string, StreamEntry<string>[]>;
    try {
      byStream = parseStreamsReply<string>(
        await reader.call('XREADGROUP', ...args, 'STREAMS', ...this.streams, ...ids),
      );
    } catch (error) {
      // A failed read (a timeout above all) may still have run, or run later: Redis then gave
      // its new entries to this consumer (pending, past the group's last-delivered ID) and the
      // reply is lost. Reading '>' again would deliver the entries after them first; once
      // applied, the partition's offset would be past the lost ones, which would then be taken
      // for replays when read again (acknowledged, never counted). So read this consumer's own
      // pending entries after the last one delivered first (the same connection, so after the
      // failed read has run), then new ones again.
      for (const stream of this.streams) cursors.set(stream, this.delivered.get(stream) ?? '0');
      throw error;
    }
    for (const stream of this.streams) {
      const entries = byStream.get(stream) ?? [];
      if (cursors.has(stream)) {
        if (entries.length === 0) cursors.delete(stream);
        else cursors.set(stream, (entries[entries.length - 1] as StreamEntry<string>).id);
      }
      if (entries.length > 0) {
        this.delivered.set(stream, (entries[entries.length - 1] as StreamEntry<string>).id);
        await handlers.deliver({ partition: this.partitionOf(stream, this.consumer), records: this.records(entries) });
      }
    }
  }

  /** Claims idle pending entries of other consumers back to their own names and delivers them under their partitions. */
  private async claim(handlers: SourceHandlers): Promise<void> {
    for (const stream of this.streams) {
      // Which consumers have idle entries; what to claim of each is decided per owner, in ID order.
      const rows = parsePendingReply(
        await this.redis.run('xpending', (c) =>
          c.call('XPENDING', stream, this.group, 'IDLE', this.claimIdleMs, '-', '+', this.readCount),
        ),
      );
      const owners = new Set<string>();
      for (const row of rows) if (row.consumer !== this.consumer) owners.add(row.consumer);
      for (const owner of owners) await this.claimFrom(handlers, stream, owner);
    }
  }

  /**
   * Claims `owner`'s pending entries of `stream` back to its name, strictly from the oldest, and
   * delivers them under its partition. An entry that is not idle was claimed a moment ago: by
   * another consumer, which is applying it now, or by this one with the reply lost (a timeout
   * after Redis ran it). Claiming the owner's later, still idle entries past it would apply them
   * first; the partition's offset would then be past the earlier ones, which would be taken for
   * replays (acknowledged, never counted). So the claim stops at the first entry that is not idle,
   * unless this source delivered it itself (it waits in this source's queue, ahead of what is
   * claimed now, so it is applied first); and what the XCLAIM did not return because another
   * consumer took it in between is not skipped either.
   */
  private async claimFrom(handlers: SourceHandlers, stream: string, owner: string): Promise<void> {
    const partition = this.partitionOf(stream, owner);
    const mine = this.claimedThrough.get(partition.id);
    const ownDelivery = (id: string) => mine !== undefined && compareOffsets(id, mine) <= 0;
    const rows = parsePendingReply(
      await this.redis.run('xpending', (c) => c.call('XPENDING', stream, this.group, '-', '+', this.readCount, owner)),
    );
    const ids: string[] = [];
    for (const row of rows) {
      if (row.idleMs >= this.claimIdleMs) ids.push(row.id);
      else if (!ownDelivery(row.id)) break;
    }
    if (ids.length === 0) return;
    // MIN-IDLE makes the claim exclusive: a second claimer (or the owner reading again) resets the idle time.
    const claimed = parseStreamEntries<string>(
      await this.redis.run('xclaim', (c) => c.call('XCLAIM', stream, this.group, owner, this.claimIdleMs, ...ids)),
    );
    // Not returned: acknowledged or deleted meanwhile (no longer pending: nothing to wait for), or
    // taken by another consumer since the XPENDING (still pending): deliver only what precedes that.
    const returned = new Set(claimed.map((e) => e.id));
    const missing = ids.filter((id) => !returned.has(id) && !ownDelivery(id));
    let cut: string | undefined;
    const [first, lastMissing] = [missing[0], missing[missing.length - 1]];
    if (first !== undefined && lastMissing !== undefined) {
      const still = new Set(
        parsePendingReply(
          await this.redis.run('xpending', (c) =>
            c.call('XPENDING', stream, this.group, first, lastMissing, this.readCount, owner),
          ),
        ).map((row) => row.id),
      );
      cut = missing.find((id) => still.has(id));
    }
    const entries = claimed.filter((e) => e.fields !== null && (cut === undefined || compareOffsets(e.id, cut) < 0));
    if (entries.length === 0) return;
    await handlers.deliver({ partition, records: this.records(entries) });
    const last = (entries[entries.length - 1] as StreamEntry<string>).id;
    if (!ownDelivery(last)) this.claimedThrough.set(partition.id, last);
  }

  private records(entries: StreamEntry<string>[]): StreamRecord[] {
    const field = this.payloadField;
    return entries.map((entry) => {
      const dash = entry.id.indexOf('-');
      const timestamp = Number(entry.id.slice(0, dash));
      let value: Record<string, unknown> | undefined;
      if (entry.fields === null) value = undefined;
      else if (field === undefined) value = Object.fromEntries(entry.fields);
      else {
        try {
          const parsed: unknown = JSON.parse(entry.fields.get(field) ?? '');
          value =
            parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
              ? (parsed as Record<string, unknown>)
              : undefined;
        } catch {
          value = undefined;
        }
      }
      return { offset: entry.id, value, timestamp };
    });
  }
}
