/**
 * One clock for every instance: an estimate of the Redis server's time.
 *
 * Freshness, tag and invalidation judgements compare times written by one
 * instance with times read by another (DESIGN.md, Time). Each instance's
 * `Date.now()` may be off by seconds; the Redis server's clock is the one
 * they all share. Asking Redis on every judgement would cost a round trip,
 * so the clock takes a sample (`TIME`) now and then and projects it with the
 * monotonic `performance.now()`:
 *
 *   sample: p0 = perf before, R = server time, p1 = perf after
 *   the server read R somewhere in [p0, p1], so at perf time p the server
 *   time lies in [R + (p - p1), R + (p - p0)], widened by a drift allowance.
 *
 * `now()` is the midpoint; `lower()` and `upper()` are bounds a correctness
 * check can rely on (a write-back's start is taken as `lower()`, an
 * invalidation's time as `upper()`, so any doubt refuses the write-back).
 * Before the first sample the clock falls back to `Date.now()` with unbounded
 * doubt; callers that need bounds `await clock.ready()` first.
 */

/** How fast the local monotonic clock may drift from the server's, as a fraction (100 ppm). */
const DRIFT = 1e-4;

/**
 * A sample wider than this (ms) is resampled soon, not after `resyncMs`: a
 * first sample taken while this process or the server was busy would
 * otherwise keep every bound wide for the whole interval, and each ms of
 * doubt is a ms after an invalidation in which a load is refused its
 * write-back (any doubt counts as invalidated).
 */
const WIDE_MS = 1;

/** The first quick resample of a wide sample comes after this long (ms); each next one waits twice as long. */
const QUICK_RESYNC_MS = 100;

/** One sample: the server time `serverMs` was read between local monotonic times `p0` and `p1`. */
interface Sample {
  serverMs: number;
  p0: number;
  p1: number;
}

/** Options of {@link RedisClock}. */
export interface RedisClockOptions {
  /**
   * Takes a sample after this long (in the background, on use). A sample
   * wider than 1 ms is resampled sooner: after 100 ms, then twice as long
   * each time, up to this. @default 10000
   */
  resyncMs?: number;
}

/** An estimate of the Redis server's clock, in ms since the epoch (fractional). */
export class RedisClock {
  private sample: Sample | undefined;
  private syncing: Promise<void> | undefined;
  private readonly resyncMs: number;
  /** Local monotonic time after which `now()` takes a sample in the background. */
  private dueAt = 0;
  /** Wait before the next quick resample while the sample stays wide (doubles, up to `resyncMs`). */
  private quickMs = QUICK_RESYNC_MS;

  /** `read` returns the server time in ms (fractional), one round trip. */
  constructor(
    private readonly read: () => Promise<number>,
    options: RedisClockOptions = {},
  ) {
    this.resyncMs = options.resyncMs ?? 10_000;
  }

  /** True once a sample was taken: `lower()` and `upper()` are then real bounds. */
  get synced(): boolean {
    return this.sample !== undefined;
  }

  /** The best estimate of the server time now. */
  now(): number {
    const s = this.sample;
    if (s === undefined) return Date.now();
    const p = performance.now();
    if (p > this.dueAt) this.resync();
    return s.serverMs + p - (s.p0 + s.p1) / 2;
  }

  /** A time at or before the server's time now (before the first sample: `Date.now()`, no guarantee). */
  lower(): number {
    const s = this.sample;
    if (s === undefined) return Date.now();
    const p = performance.now();
    return s.serverMs + (p - s.p1) - (p - s.p1) * DRIFT;
  }

  /** A time at or after the server's time now (before the first sample: `Date.now()`, no guarantee). */
  upper(): number {
    const s = this.sample;
    if (s === undefined) return Date.now();
    const p = performance.now();
    return s.serverMs + (p - s.p0) + (p - s.p0) * DRIFT;
  }

  /** Half the width of the interval the server time is known to lie in, in ms (Infinity before a sample). */
  doubt(): number {
    return this.sample === undefined ? Number.POSITIVE_INFINITY : (this.upper() - this.lower()) / 2;
  }

  /** Resolves once the clock has a sample (takes one if needed); rejects when Redis cannot be read. */
  ready(): Promise<void> {
    return this.sample !== undefined ? Promise.resolve() : this.sync();
  }

  /**
   * Takes a sample now (concurrent calls share one). A sample replaces the
   * current one when its bounds are tighter (the current one's widen with
   * age), or always with `replace` (after a reconnect, which may have
   * reached another server).
   */
  sync(replace = false): Promise<void> {
    this.syncing ??= (async () => {
      try {
        // A first sample (or one replacing a server's) is the tightest of a few: one slow reply must not
        // widen every bound until the next resync.
        const rounds = replace || this.sample === undefined ? 3 : 1;
        let best: Sample | undefined;
        for (let i = 0; i < rounds; i++) {
          const p0 = performance.now();
          const serverMs = await this.read();
          const p1 = performance.now();
          const next: Sample = { serverMs, p0, p1 };
          if (best === undefined || width(next, p1) <= width(best, p1)) best = next;
        }
        const next = best as Sample;
        const current = this.sample;
        // Only a tighter sample replaces the current one (its doubt grows with the drift allowance as it
        // ages): a slow reply after a stall must not widen every bound for the next resync interval.
        if (replace || current === undefined || width(next, next.p1) <= width(current, next.p1)) {
          this.sample = next;
        }
      } finally {
        this.syncing = undefined;
        // Also after a failed sample: the next attempt waits (a down server is not asked on every read).
        if (this.sample !== undefined) this.schedule(performance.now());
      }
    })();
    return this.syncing;
  }

  /** Forgets the sample (the next reads fall back to the local clock until a sync): after a failover. */
  reset(): void {
    this.sample = undefined;
  }

  /** When the next background sample is due, seen at local monotonic time `p`: soon while the sample is wide. */
  private schedule(p: number): void {
    const s = this.sample as Sample;
    if (width(s, p) <= WIDE_MS) {
      this.quickMs = QUICK_RESYNC_MS;
      this.dueAt = p + this.resyncMs;
    } else {
      this.dueAt = p + Math.min(this.quickMs, this.resyncMs);
      this.quickMs *= 2;
    }
  }

  private resync(): void {
    // Background: a failed sample keeps the old one (its doubt keeps growing with the drift allowance).
    this.sync().catch(() => {});
  }
}

/** Width of a sample's bounds projected to perf time `p`. */
function width(s: Sample, p: number): number {
  return s.p1 - s.p0 + (2 * p - s.p0 - s.p1) * DRIFT;
}

/** Turns a TIME reply (`[seconds, microseconds]`) into ms since the epoch. */
export function timeReplyToMs(reply: unknown): number {
  const [seconds, micros] = reply as [string | number, string | number];
  return Number(seconds) * 1000 + Number(micros) / 1000;
}
