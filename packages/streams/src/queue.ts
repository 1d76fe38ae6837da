/**
 * The bounded queue between a source and the writer. Depth counts records
 * queued or being applied, so memory is bounded by `max` (plus one delivery
 * when the queue was empty). The source is paused at `highWater` and resumed
 * at `lowWater`; a delivery that does not fit waits for room.
 */
import type { SourceBatch, SourcePartition, StreamRecord } from './source.js';

/** Records of one partition waiting to be applied, in offset order. */
export interface PartitionLane {
  readonly partition: SourcePartition;
  records: StreamRecord[];
  /** True while a chunk of this lane is being applied (lanes are applied one chunk at a time). */
  busy: boolean;
}

/** Callbacks of {@link BoundedQueue}. */
export interface QueueEvents {
  pause(): void;
  resume(): void;
  /** The depth changed in a way worth reporting (a pause, a resume, a chunk done). */
  depth(depth: number, paused: boolean): void;
}

/** The queue. Not thread-safe beyond Node's single thread, which is all it needs. */
export class BoundedQueue {
  private readonly lanes = new Map<string, PartitionLane>();
  private current = 0;
  private paused = false;
  private readonly roomWaiters: (() => void)[] = [];
  private readonly workWaiters: (() => void)[] = [];

  constructor(
    private readonly limits: { max: number; highWater: number; lowWater: number },
    private readonly events: QueueEvents,
  ) {}

  /** Records queued or in flight. */
  get depth(): number {
    return this.current;
  }

  /** True while the source is paused by this queue. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Records queued and not yet taken. */
  get waiting(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.records.length;
    return n;
  }

  /**
   * Adds a batch once there is room (an empty queue always takes it, however
   * large, so a delivery bigger than `max` cannot wait forever). `closed`
   * reports a stop: a batch offered after it is dropped (it stays uncommitted).
   */
  async offer(batch: SourceBatch, closed: () => boolean): Promise<void> {
    const n = batch.records.length;
    if (n === 0) return;
    while (this.current > 0 && this.current + n > this.limits.max && !closed()) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    if (closed()) return;
    let lane = this.lanes.get(batch.partition.id);
    if (!lane) {
      lane = { partition: batch.partition, records: [], busy: false };
      this.lanes.set(batch.partition.id, lane);
    }
    for (const record of batch.records) lane.records.push(record);
    this.current += n;
    if (!this.paused && this.current >= this.limits.highWater) {
      this.paused = true;
      this.events.pause();
      this.events.depth(this.current, true);
    }
    this.wakeWork();
  }

  /** Waits until records wait in a lane that is not busy, or `timeoutMs` passes. */
  async waitForWork(timeoutMs: number): Promise<void> {
    if (this.hasWork()) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.workWaiters.push(done);
    });
  }

  /** True when a lane that is not busy has records. */
  hasWork(): boolean {
    for (const lane of this.lanes.values()) if (!lane.busy && lane.records.length > 0) return true;
    return false;
  }

  /** Takes up to `max` records from each idle lane, marking the lane busy. */
  take(max: number): { lane: PartitionLane; records: StreamRecord[] }[] {
    const chunks: { lane: PartitionLane; records: StreamRecord[] }[] = [];
    for (const lane of this.lanes.values()) {
      if (lane.busy || lane.records.length === 0) continue;
      lane.busy = true;
      chunks.push({ lane, records: lane.records.splice(0, max) });
    }
    return chunks;
  }

  /** A chunk of `n` records is finished (applied and committed, or given up): frees its room. */
  done(lane: PartitionLane, n: number): void {
    lane.busy = false;
    if (lane.records.length === 0 && this.lanes.get(lane.partition.id) === lane) this.lanes.delete(lane.partition.id);
    this.release(n);
    this.events.depth(this.current, this.paused);
    if (lane.records.length > 0) this.wakeWork();
  }

  /** Drops every queued record of `partitionId` (a revoked partition); returns how many. */
  drop(partitionId: string): number {
    const lane = this.lanes.get(partitionId);
    if (!lane) return 0;
    const n = lane.records.length;
    lane.records = [];
    if (!lane.busy) this.lanes.delete(partitionId);
    this.release(n);
    return n;
  }

  /** Wakes every waiter (on stop). */
  wakeAll(): void {
    for (const resolve of this.roomWaiters.splice(0)) resolve();
    this.wakeWork();
  }

  private release(n: number): void {
    this.current -= n;
    if (this.paused && this.current <= this.limits.lowWater) {
      this.paused = false;
      this.events.resume();
      this.events.depth(this.current, false);
    }
    for (const resolve of this.roomWaiters.splice(0)) resolve();
  }

  private wakeWork(): void {
    for (const resolve of this.workWaiters.splice(0)) resolve();
  }
}
