/**
 * The overview's time series: every `interval`, INFO of every master (summed
 * on Cluster) gives memory, maxmemory, evictions, keyspace hits and misses
 * and ops/s; hit ratio and evictions are per interval (deltas of the server's
 * counters). Kept in memory, `points` samples, so the charts start empty when
 * the console starts. A failed read leaves a gap (nulls), never a hang.
 */
import { parseInfo, type StrataRedis } from '@stratacache/core-client';
import { scanNodes } from './scan.js';

/** The series, aligned on `t` (seconds since the epoch, as uPlot wants). */
export interface Series {
  t: number[];
  opsPerSec: (number | null)[];
  hitRatio: (number | null)[];
  usedMemory: (number | null)[];
  maxMemory: (number | null)[];
  evictions: (number | null)[];
}

interface Totals {
  hits: number;
  misses: number;
  evicted: number;
}

/** Samples INFO on a timer; `series()` for the charts, `lastError` when the last read failed. */
export class Sampler {
  private readonly data: Series = { t: [], opsPerSec: [], hitRatio: [], usedMemory: [], maxMemory: [], evictions: [] };
  private previous: Totals | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Why the last sample failed, if it did. */
  lastError: Error | undefined;

  constructor(
    private readonly redis: StrataRedis,
    private readonly intervalMs: number,
    private readonly points: number,
  ) {}

  /** Takes a sample now and then every interval. */
  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sample in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** A copy of the series. */
  series(): Series {
    return {
      t: [...this.data.t],
      opsPerSec: [...this.data.opsPerSec],
      hitRatio: [...this.data.hitRatio],
      usedMemory: [...this.data.usedMemory],
      maxMemory: [...this.data.maxMemory],
      evictions: [...this.data.evictions],
    };
  }

  /** Takes one sample (one at a time: a slow INFO does not stack reads). */
  sample(): Promise<void> {
    this.running ??= this.read().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private push(point: Record<Exclude<keyof Series, 't'>, number | null>): void {
    const d = this.data;
    d.t.push(Date.now() / 1000);
    for (const name of ['opsPerSec', 'hitRatio', 'usedMemory', 'maxMemory', 'evictions'] as const) {
      d[name].push(point[name]);
    }
    while (d.t.length > this.points) {
      d.t.shift();
      for (const name of ['opsPerSec', 'hitRatio', 'usedMemory', 'maxMemory', 'evictions'] as const) d[name].shift();
    }
  }

  private async read(): Promise<void> {
    try {
      const infos = await Promise.all(
        scanNodes(this.redis).map(async (node) => parseInfo(await this.redis.run('info', () => node.info()))),
      );
      const sum = (field: string) => infos.reduce((n, info) => n + (Number(info[field]) || 0), 0);
      const totals: Totals = {
        hits: sum('keyspace_hits'),
        misses: sum('keyspace_misses'),
        evicted: sum('evicted_keys'),
      };
      const prev = this.previous;
      this.previous = totals;
      // A restart resets the server's counters: no delta across it.
      const fresh = !prev || totals.hits < prev.hits || totals.misses < prev.misses || totals.evicted < prev.evicted;
      const lookups = fresh ? 0 : totals.hits - (prev as Totals).hits + (totals.misses - (prev as Totals).misses);
      this.push({
        opsPerSec: sum('instantaneous_ops_per_sec'),
        hitRatio: fresh || lookups === 0 ? null : (totals.hits - (prev as Totals).hits) / lookups,
        usedMemory: sum('used_memory'),
        // No limit (0) is no line, not a line at zero.
        maxMemory: sum('maxmemory') || null,
        evictions: fresh ? null : totals.evicted - (prev as Totals).evicted,
      });
      this.lastError = undefined;
    } catch (error) {
      this.lastError = error as Error;
      this.previous = undefined;
      this.push({ opsPerSec: null, hitRatio: null, usedMemory: null, maxMemory: null, evictions: null });
    }
  }
}
