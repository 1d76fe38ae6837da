/**
 * Where each series stands in each partition, as stored in Redis: the last
 * applied offset and the watermark. Loaded on assignment (start, rebalance) and
 * again whenever the script says the cached copy is stale, so Redis is always
 * the source of truth and a restart resumes exactly where the writes stopped.
 */
import type { StrataRedis } from '@stratacache/core-client';
import type { PartitionState } from './accumulate.js';
import type { SeriesKeys } from './series.js';
import { compareOffsets } from './windows.js';

export class PartitionStates {
  private readonly states = new Map<SeriesKeys, Map<string, PartitionState>>();

  constructor(
    private readonly redis: StrataRedis,
    private readonly series: readonly SeriesKeys[],
  ) {
    for (const s of series) this.states.set(s, new Map());
  }

  /** The cached state, if loaded. */
  cached(series: SeriesKeys, partitionId: string): PartitionState | undefined {
    return this.states.get(series)?.get(partitionId);
  }

  /** The state of one series in one partition, from the cache or Redis. */
  async get(series: SeriesKeys, partitionId: string): Promise<PartitionState> {
    const cached = this.cached(series, partitionId);
    if (cached) return cached;
    const [offset, watermark] = await this.redis.run('hmget', (c) =>
      c.hmget(series.offsets, `o:${partitionId}`, `w:${partitionId}`),
    );
    const state: PartitionState = {
      offset: offset ?? undefined,
      watermark: watermark === null || watermark === undefined ? Number.NEGATIVE_INFINITY : Number(watermark),
    };
    this.states.get(series)?.set(partitionId, state);
    return state;
  }

  /** Loads every series' state of `partitionIds` afresh; resolves with the offset all series have applied through. */
  async load(partitionIds: readonly string[]): Promise<Map<string, string | undefined>> {
    for (const id of partitionIds) this.forget(id);
    const through = new Map<string, string | undefined>();
    await Promise.all(
      partitionIds.map(async (id) => {
        let lowest: string | undefined;
        let missing = false;
        for (const series of this.series) {
          const state = await this.get(series, id);
          if (state.offset === undefined) missing = true;
          else if (lowest === undefined || compareOffsets(state.offset, lowest) < 0) lowest = state.offset;
        }
        through.set(id, missing ? undefined : lowest);
      }),
    );
    return through;
  }

  /** Drops the cached state of one series in one partition (reloaded on next use). */
  forgetOne(series: SeriesKeys, partitionId: string): void {
    this.states.get(series)?.delete(partitionId);
  }

  /** Drops every series' cached state of a partition. */
  forget(partitionId: string): void {
    for (const map of this.states.values()) map.delete(partitionId);
  }
}
