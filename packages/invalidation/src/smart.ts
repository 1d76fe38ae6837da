/**
 * Smart invalidation: sampled access counts per key group, background
 * re-warming of hot keys after they are invalidated (single-flight per key),
 * and a report of groups by invalidation rate and hit rate to help tune TTLs.
 *
 * Counting is in process memory and sampled (`sampleRate`), so recording an
 * access costs a random number and, now and then, a map update.
 */
import { check } from '@stratacache/core-client';
import {
  type ResolvedSmartInvalidationOptions,
  resolveSmartInvalidationOptions,
  type SmartInvalidationOptions,
} from './smart-options.js';

export type { SmartInvalidationOptions } from './smart-options.js';

/** One group in the report. */
export interface GroupReport {
  group: string;
  /** Estimated accesses in the window (sampled counts scaled by 1 / sampleRate). */
  accesses: number;
  hits: number;
  misses: number;
  /** hits / accesses, or null without accesses. */
  hitRate: number | null;
  /** Invalidations of the group's keys in the window (counted exactly). */
  invalidations: number;
  /** Invalidations per estimated access. */
  invalidationRate: number | null;
  /** A plain-words hint for tuning. */
  advice: string;
}

type Loader = (key: string) => Promise<unknown>;

interface Counter {
  since: number;
  hits: number;
  misses: number;
  invalidations: number;
}

/** Smart invalidation for one process. */
export class SmartInvalidation {
  /** The resolved options (frozen). */
  readonly options: ResolvedSmartInvalidationOptions;
  private readonly sampleRate: number;
  private readonly groupOf: (key: string) => string;
  private readonly hotThreshold: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly random: () => number;
  private readonly groups = new Map<string, Counter>();
  private readonly keyAccesses = new Map<string, { since: number; count: number }>();
  private readonly loaders: Array<{ match: (key: string) => boolean; load: Loader }> = [];
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly stop: () => void;

  constructor(options: SmartInvalidationOptions) {
    this.options = resolveSmartInvalidationOptions(options);
    this.sampleRate = this.options.sampleRate;
    this.groupOf = this.options.groupOf;
    this.hotThreshold = this.options.hotThreshold;
    this.windowMs = this.options.windowMs;
    this.maxKeys = this.options.maxTrackedKeys;
    this.random = this.options.random;
    this.stop = this.options.bus.onInvalidation((event) => {
      if (event.op !== 'dk' && event.op !== 'ek') return;
      for (const key of event.items) this.invalidated(key, event.local);
    });
  }

  /** Records one read of `key` (a hit or a miss). Sampled. */
  recordAccess(key: string, hit: boolean): void {
    if (this.random() >= this.sampleRate) return;
    const now = Date.now();
    const counter = this.counter(this.groupOf(key), now);
    if (hit) counter.hits++;
    else counter.misses++;
    const access = this.keyAccesses.get(key);
    if (!access || now - access.since > this.windowMs) {
      this.keyAccesses.delete(key);
      this.keyAccesses.set(key, { since: now, count: 1 });
      if (this.keyAccesses.size > this.maxKeys) this.keyAccesses.delete(this.keyAccesses.keys().next().value as string);
    } else access.count++;
  }

  /** Estimated accesses of `key` in the current window. */
  accessesOf(key: string): number {
    const access = this.keyAccesses.get(key);
    if (!access || Date.now() - access.since > this.windowMs) return 0;
    return access.count / this.sampleRate;
  }

  /**
   * Registers a loader that re-warms keys matching `match` (a group name, a
   * predicate) after this instance invalidates one that is hot.
   */
  registerLoader(match: string | ((key: string) => boolean), load: Loader): void {
    if (typeof match !== 'string') check.function(match, 'match');
    check.function(load, 'load');
    const test = typeof match === 'string' ? (key: string) => this.groupOf(key) === match : match;
    this.loaders.push({ match: test, load });
  }

  /** Re-warms running now (for tests and shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Groups by invalidation rate (highest first), with hit rates and advice. */
  report(): GroupReport[] {
    const now = Date.now();
    const rows: GroupReport[] = [];
    for (const [group, c] of this.groups) {
      if (now - c.since > this.windowMs) continue;
      const hits = c.hits / this.sampleRate;
      const misses = c.misses / this.sampleRate;
      const accesses = hits + misses;
      const hitRate = accesses > 0 ? hits / accesses : null;
      const invalidationRate = accesses > 0 ? c.invalidations / accesses : null;
      rows.push({
        group,
        accesses,
        hits,
        misses,
        hitRate,
        invalidations: c.invalidations,
        invalidationRate,
        advice: advise(hitRate, invalidationRate),
      });
    }
    return rows.sort(
      (a, b) => (b.invalidationRate ?? 0) - (a.invalidationRate ?? 0) || b.invalidations - a.invalidations,
    );
  }

  /** Stops counting. */
  close(): void {
    this.stop();
  }

  private counter(group: string, now: number): Counter {
    let counter = this.groups.get(group);
    if (!counter || now - counter.since > this.windowMs) {
      counter = { since: now, hits: 0, misses: 0, invalidations: 0 };
      this.groups.set(group, counter);
    }
    return counter;
  }

  private invalidated(key: string, local: boolean): void {
    this.counter(this.groupOf(key), Date.now()).invalidations++;
    // Only the instance that invalidated re-warms: the fleet does not stampede the source.
    if (!local || this.accessesOf(key) < this.hotThreshold) return;
    const loader = this.loaders.find((l) => l.match(key));
    if (!loader || this.inFlight.has(key)) return;
    const run = Promise.resolve()
      .then(() => loader.load(key))
      .catch(() => {}) // a failed re-warm only means the next reader loads it
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, run);
  }
}

function advise(hitRate: number | null, invalidationRate: number | null): string {
  if (hitRate === null) return 'no reads sampled yet';
  if (invalidationRate !== null && invalidationRate > 0.5) {
    return 'invalidated about as often as read: caching buys little here; cache less of it, or invalidate by narrower tags';
  }
  if (hitRate < 0.5) return 'low hit rate: the TTL may be too short, or keys too specific to repeat';
  if (invalidationRate !== null && invalidationRate < 0.01 && hitRate > 0.95)
    return 'rarely invalidated and mostly hits: a longer TTL is likely safe';
  return 'looks balanced';
}

/** Creates smart invalidation on a bus. */
export function createSmartInvalidation(options: SmartInvalidationOptions): SmartInvalidation {
  return new SmartInvalidation(options);
}
