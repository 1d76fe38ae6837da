/**
 * Records from Kafka through a kafkajs consumer group: manual commits only
 * after the aggregator applied a batch, pause/resume for backpressure, and a
 * seek past what Redis already holds when partitions are assigned.
 *
 * kafkajs is an optional peer: you pass your own `new Kafka(...)`, and this
 * file only describes the small part of its API it uses, so importing this
 * subpath never loads kafkajs itself.
 */
import { ConfigError, type Duration, toMs } from '@stratacache/core-client';
import { sleep } from './retry.js';
import type {
  PartitionLag,
  SourceHandlers,
  SourcePartition,
  SourceStatus,
  StreamRecord,
  StreamSource,
} from './source.js';

/** The part of a kafkajs message this source reads. */
export interface KafkaMessageLike {
  offset: string;
  value: Buffer | null;
  timestamp: string;
}

/** The part of kafkajs' `eachBatch` payload this source uses. */
export interface KafkaEachBatchLike {
  batch: { topic: string; partition: number; messages: KafkaMessageLike[] };
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  isStale(): boolean;
}

/** The part of a kafkajs `Consumer` this source uses. */
export interface KafkaConsumerLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topics: string[]; fromBeginning?: boolean }): Promise<void>;
  run(config: {
    autoCommit?: boolean;
    eachBatchAutoResolve?: boolean;
    partitionsConsumedConcurrently?: number;
    eachBatch?: (payload: KafkaEachBatchLike) => Promise<void>;
  }): Promise<void>;
  pause(topics: { topic: string; partitions?: number[] }[]): void;
  resume(topics: { topic: string; partitions?: number[] }[]): void;
  seek(target: { topic: string; partition: number; offset: string }): void;
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  // biome-ignore lint/suspicious/noExplicitAny: kafkajs types each event's payload differently; only GROUP_JOIN's is read.
  on(event: any, listener: (event: any) => void): unknown;
  readonly events: { readonly GROUP_JOIN: string; readonly CRASH: string; readonly DISCONNECT: string };
}

/** The part of a kafkajs `Admin` this source uses (for lag). */
export interface KafkaAdminLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  fetchTopicOffsets(topic: string): Promise<{ partition: number; high: string; low: string }[]>;
  fetchOffsets(options: {
    groupId: string;
    topics: string[];
  }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

/** The part of a kafkajs `Kafka` client this source uses: `new Kafka({ brokers })` fits. */
export interface KafkaLike {
  // biome-ignore lint/suspicious/noExplicitAny: kafkajs' ConsumerConfig, passed through as given.
  consumer(config: any): KafkaConsumerLike;
  admin(): KafkaAdminLike;
}

/** Options of {@link KafkaSource}. */
export interface KafkaSourceOptions {
  /** Your kafkajs client (`new Kafka({ clientId, brokers })`). Required. */
  kafka: KafkaLike;
  /** Consumer group id. Required. */
  groupId: string;
  /** Topics to consume. Required. */
  topics: readonly string[];
  /** Read a topic from its start when the group has no committed offset. @default true */
  fromBeginning?: boolean;
  /** More kafkajs consumer settings (`sessionTimeout`, `heartbeatInterval`, `maxBytesPerPartition`, ...). */
  consumer?: Record<string, unknown>;
  /** Partitions processed at once by kafkajs. @default 1 */
  partitionsConsumedConcurrently?: number;
  /** Heartbeat while a delivery waits for room in a full queue. @default '1s' */
  heartbeatWhileWaiting?: Duration;
  /** Diagnostics label. @default 'kafka' */
  name?: string;
}

/** Records from Kafka topics through kafkajs. */
export class KafkaSource implements StreamSource {
  readonly name: string;
  private readonly options: KafkaSourceOptions;
  private readonly waitMs: number;
  private consumer: KafkaConsumerLike | undefined;
  private admin: KafkaAdminLike | undefined;
  private assignment = new Map<string, SourcePartition>();
  private connected = false;
  private paused = false;

  constructor(options: KafkaSourceOptions) {
    const fail = (option: string, message: string): never => {
      throw new ConfigError(`${option} ${message}`, { context: { option } });
    };
    if (!options || typeof options.kafka?.consumer !== 'function')
      fail('kafka', 'must be a kafkajs client (new Kafka({ brokers }))');
    if (typeof options.groupId !== 'string' || options.groupId === '') fail('groupId', 'must be a non-empty string');
    if (
      !Array.isArray(options.topics) ||
      options.topics.length === 0 ||
      options.topics.some((t) => typeof t !== 'string' || !t)
    )
      fail('topics', 'must list at least one topic');
    this.options = options;
    this.name = options.name ?? 'kafka';
    this.waitMs = toMs(options.heartbeatWhileWaiting ?? '1s', 'heartbeatWhileWaiting');
  }

  /** The partition of `topic` number `partition`. */
  partitionOf(topic: string, partition: number): SourcePartition {
    return { id: `${topic}/${partition}`, topic, partition };
  }

  async start(handlers: SourceHandlers): Promise<void> {
    if (this.consumer) return;
    const o = this.options;
    const consumer = o.kafka.consumer({ ...o.consumer, groupId: o.groupId });
    this.consumer = consumer;
    this.admin = o.kafka.admin();
    consumer.on(consumer.events.GROUP_JOIN, (event: { payload: { memberAssignment: Record<string, number[]> } }) => {
      this.connected = true;
      void this.assigned(handlers, event.payload.memberAssignment);
    });
    consumer.on(consumer.events.CRASH, (event: { payload: { error: unknown } }) => {
      this.connected = false;
      handlers.error('consume', event.payload.error);
    });
    consumer.on(consumer.events.DISCONNECT, () => {
      this.connected = false;
    });
    await consumer.connect();
    await this.admin.connect();
    await consumer.subscribe({ topics: [...o.topics], fromBeginning: o.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.eachBatch(handlers, payload),
    });
  }

  private async assigned(handlers: SourceHandlers, assignment: Record<string, number[]>): Promise<void> {
    const next = new Map<string, SourcePartition>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const p of partitions) {
        const partition = this.partitionOf(topic, p);
        next.set(partition.id, partition);
      }
    }
    const revoked = [...this.assignment.values()].filter((p) => !next.has(p.id));
    this.assignment = next;
    if (revoked.length > 0) handlers.revoked(revoked);
    try {
      // Redis holds what was applied: continue after it, whatever Kafka had committed.
      for (const point of await handlers.assigned([...next.values()])) {
        if (point.appliedThrough === undefined || !this.assignment.has(point.partition.id)) continue;
        this.consumer?.seek({
          topic: point.partition.topic,
          partition: point.partition.partition,
          offset: String(BigInt(point.appliedThrough) + 1n),
        });
      }
    } catch (error) {
      // Not resuming by seek is safe: records at or below the stored offsets are recognised as replays.
      handlers.error('seek', error);
    }
  }

  private async eachBatch(handlers: SourceHandlers, payload: KafkaEachBatchLike): Promise<void> {
    const { batch } = payload;
    const last = batch.messages[batch.messages.length - 1];
    if (!last || payload.isStale()) return;
    const partition =
      this.assignment.get(`${batch.topic}/${batch.partition}`) ?? this.partitionOf(batch.topic, batch.partition);
    const records: StreamRecord[] = batch.messages.map((m) => ({
      offset: m.offset,
      value: parse(m.value),
      timestamp: Number(m.timestamp),
    }));
    const delivered = handlers.deliver({ partition, records }).then(() => true);
    // A full queue makes this wait: keep the group membership alive meanwhile.
    while (!(await Promise.race([delivered, sleep(this.waitMs).then(() => false)]))) {
      await payload.heartbeat().catch(() => {});
    }
    // Resolving moves kafkajs' fetch position only; the commit comes after the Redis writes.
    payload.resolveOffset(last.offset);
    await payload.heartbeat().catch(() => {});
  }

  pause(): void {
    this.paused = true;
    try {
      this.consumer?.pause(this.options.topics.map((topic) => ({ topic })));
    } catch {
      // Not running yet: run() starts unpaused and the next pause() applies.
    }
  }

  resume(): void {
    this.paused = false;
    try {
      this.consumer?.resume(this.options.topics.map((topic) => ({ topic })));
    } catch {
      // Not running: nothing to resume.
    }
  }

  async commit(partition: SourcePartition, records: readonly StreamRecord[]): Promise<void> {
    const last = records[records.length - 1];
    if (!last || !this.consumer) return;
    await this.consumer.commitOffsets([
      { topic: partition.topic, partition: partition.partition, offset: String(BigInt(last.offset) + 1n) },
    ]);
  }

  async lag(): Promise<PartitionLag[]> {
    const admin = this.admin;
    if (!admin) return [];
    const o = this.options;
    const committed = new Map<string, bigint>();
    for (const topic of await admin.fetchOffsets({ groupId: o.groupId, topics: [...o.topics] })) {
      for (const p of topic.partitions) committed.set(`${topic.topic}/${p.partition}`, BigInt(p.offset));
    }
    const lag: PartitionLag[] = [];
    for (const topic of o.topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const high = BigInt(p.high);
        const at = committed.get(`${topic}/${p.partition}`) ?? -1n;
        const from = at < 0n ? BigInt(p.low) : at;
        lag.push({ topic, partition: p.partition, lag: Number(high > from ? high - from : 0n) });
      }
    }
    return lag;
  }

  status(): SourceStatus {
    return { connected: this.connected, assigned: this.assignment.size, paused: this.paused };
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.connected = false;
    await Promise.allSettled([consumer?.disconnect(), this.admin?.disconnect()]);
  }
}

function parse(value: Buffer | null): Record<string, unknown> | undefined {
  if (!value) return undefined;
  try {
    const parsed: unknown = JSON.parse(value.toString());
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
