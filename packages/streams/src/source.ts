/**
 * The contract between the aggregator and where records come from. A source
 * delivers batches of one partition in offset order, pauses and resumes when
 * told, and commits (XACK, Kafka offset commit) only what the aggregator says
 * is applied. `RedisStreamSource` and `KafkaSource` implement it; anything
 * else that can keep those promises can too.
 */

/**
 * A unit of ordering: a Kafka topic partition, or (Redis Streams) the entries
 * of one stream that one consumer of the group received. Offsets only grow
 * within a partition, which is what makes a replay recognisable.
 */
export interface SourcePartition {
  /** Unique and stable across restarts (`orders/3`, `orders|worker-1`): the key of stored offsets. */
  readonly id: string;
  /** Topic or stream key: a diagnostics label. */
  readonly topic: string;
  /** Partition number (0 for a Redis stream): a diagnostics label. */
  readonly partition: number;
}

/** One record as a source hands it over. */
export interface StreamRecord {
  /** Kafka offset (`'42'`) or stream entry ID (`'1700000000000-0'`). */
  readonly offset: string;
  /** The decoded event, or `undefined` when it could not be decoded (counted as invalid). */
  readonly value: Readonly<Record<string, unknown>> | undefined;
  /** The broker's timestamp in ms (Kafka message timestamp, stream entry ID time), when it has one. */
  readonly timestamp?: number;
}

/** Records of one partition, in offset order. */
export interface SourceBatch {
  readonly partition: SourcePartition;
  readonly records: readonly StreamRecord[];
}

/** Where a partition's processing resumes: the lowest offset every window series has applied. */
export interface ResumePoint {
  readonly partition: SourcePartition;
  /** The last offset applied by every series, or `undefined` when one of them has none stored. */
  readonly appliedThrough: string | undefined;
}

/** What the aggregator gives a source when it starts it. */
export interface SourceHandlers {
  /**
   * Takes a batch into the bounded queue; resolves once it is queued, which
   * waits while the queue is full (the source should stop reading meanwhile).
   */
  deliver(batch: SourceBatch): Promise<void>;
  /**
   * The partitions this instance consumes now (at start and after a rebalance);
   * resolves with the offsets stored in Redis so the source can resume after them.
   */
  assigned(partitions: readonly SourcePartition[]): Promise<ResumePoint[]>;
  /** Partitions taken away by a rebalance: their queued records are dropped, not committed. */
  revoked(partitions: readonly SourcePartition[]): void;
  /** A failure inside the source (a read, a claim, a lag poll), reported and retried by the source. */
  error(operation: string, error: unknown): void;
}

/** Lag of one partition (or one stream's group). */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** Records not yet consumed. */
  readonly lag: number;
}

/** A source's state, for readiness. */
export interface SourceStatus {
  readonly connected: boolean;
  /** Partitions assigned to this instance. */
  readonly assigned: number;
  /** True while reading is paused for backpressure. */
  readonly paused: boolean;
}

/** A stream of records: Redis Streams, Kafka, or your own. */
export interface StreamSource {
  /** A short name for diagnostics (`'redis-stream'`, `'kafka'`): a label, so keep it constant. */
  readonly name: string;
  /** Connects and starts delivering through `handlers`; resolves once consuming has begun. */
  start(handlers: SourceHandlers): Promise<void>;
  /** Stops reading until `resume()` (backpressure). Idempotent. */
  pause(): void;
  /** Reads again after `pause()`. Idempotent. */
  resume(): void;
  /** Marks `records` of `partition` done: called only after every series applied them. */
  commit(partition: SourcePartition, records: readonly StreamRecord[]): Promise<void>;
  /** Current lag per partition. */
  lag(): Promise<PartitionLag[]>;
  /** Connected, how many partitions, paused. */
  status(): SourceStatus;
  /** Stops reading and disconnects. Uncommitted records are delivered again to the next consumer. */
  stop(): Promise<void>;
}
