/** Options of `registerMetrics`, resolved once into a frozen object. */
import { ConfigError, type Duration, type StrataRedis, toMs } from '@stratacache/core-client';
import { exponentialBuckets, type Registry } from 'prom-client';

/** A cache whose memory tier is measured at scrape (a patterns `Cache` fits). */
export interface MeasuredCache {
  /** The cache namespace: the `cache` label. */
  readonly name: string;
  /** `memoryEntries` at scrape; the hit and miss counters too with `lookups: 'stats'`. */
  stats(): {
    memoryEntries: number;
    memoryHits?: number;
    memoryMisses?: number;
    redisHits?: number;
    redisMisses?: number;
  };
}

/** A session manager whose live sessions are counted at scrape (a sessions `SessionManager` fits). */
export interface MeasuredSessions {
  /** The sessions namespace: the `namespace` label. */
  readonly namespace: string;
  stats(): Promise<{ active: number }>;
}

/** Options of `registerMetrics`. */
export interface MetricsOptions {
  /**
   * The prom-client registry to register on. Required: a library never uses
   * prom-client's global registry behind your back.
   */
  registry: Registry;
  /**
   * A client whose Redis server is measured from `INFO` at scrape
   * (`redis_memory_used_bytes`, ...), and whose breaker state is read at
   * scrape. @default none (no server metrics)
   */
  redis?: StrataRedis;
  /** Prefix of every stratacache metric name (not of the `redis_*` server metrics). @default 'stratacache_' */
  prefix?: string;
  /** Histogram buckets, in seconds. */
  buckets?: {
    /** Redis round trips and cache operations. @default exponentialBuckets(0.0001, 2.5, 10): 100 µs to 0.38 s */
    fast?: readonly number[];
    /** Factories, lock waits and holds, SQL queries, stream batches. @default 0.5 ms to 60 s */
    slow?: readonly number[];
  };
  /** Most distinct values per metric and label; later values count as `other`. @default 100 */
  maxLabelValues?: number;
  /** Caches whose memory-tier size is read at scrape (`cache_memory_entries`). @default [] */
  caches?: readonly MeasuredCache[];
  /**
   * Where `cache_lookups_total` hits and misses come from. `'events'`: every
   * Cache's hit and miss events (any cache, any namespace; costs each lookup
   * an event). `'stats'`: the counters of the caches in `caches`, read at
   * scrape (nothing per lookup, so the memory hit stays as fast as without
   * metrics; only the caches listed, each `Cache` object by its own counters).
   * @default 'events'
   */
  lookups?: 'events' | 'stats';
  /** Session managers whose live sessions are counted at scrape (`sessions_active`). @default [] */
  sessions?: readonly MeasuredSessions[];
  /** How long one `INFO` read (and one sessions count) is reused across a scrape. @default '1s' */
  scrapeCacheTtl?: Duration;
  /** How long an `INFO` read or a sessions count may take before the scrape goes on without it. @default '500ms' */
  scrapeTimeout?: Duration;
}

/** {@link MetricsOptions} resolved. */
export interface ResolvedMetricsOptions {
  readonly registry: Registry;
  readonly redis: StrataRedis | undefined;
  readonly prefix: string;
  readonly fastBuckets: readonly number[];
  readonly slowBuckets: readonly number[];
  readonly maxLabelValues: number;
  readonly caches: readonly MeasuredCache[];
  readonly lookups: 'events' | 'stats';
  readonly sessions: readonly MeasuredSessions[];
  readonly scrapeCacheTtlMs: number;
  readonly scrapeTimeoutMs: number;
}

/** Default fast buckets: 100 µs to about 380 ms, for Redis round trips. */
export const FAST_BUCKETS: readonly number[] = Object.freeze(exponentialBuckets(0.0001, 2.5, 10));

/** Default slow buckets: 0.5 ms to 60 s. */
export const SLOW_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]);

function buckets(value: readonly number[] | undefined, fallback: readonly number[], option: string): readonly number[] {
  if (value === undefined) return fallback;
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((b, i) => typeof b === 'number' && b > 0 && Number.isFinite(b) && (i === 0 || b > (value[i - 1] ?? 0)));
  if (!ok) {
    throw new ConfigError(
      `${option} must be a non-empty list of increasing positive seconds; got ${JSON.stringify(value)}`,
      {
        context: { option },
      },
    );
  }
  return Object.freeze([...value]);
}

/** Resolves and checks {@link MetricsOptions}; a bad option throws `ConfigError` naming it. */
export function resolveMetricsOptions(options: MetricsOptions): ResolvedMetricsOptions {
  const registry = options?.registry;
  if (!registry || typeof registry.registerMetric !== 'function' || typeof registry.metrics !== 'function') {
    throw new ConfigError(
      'registry must be a prom-client Registry (new Registry()); stratacache never registers on the global one implicitly',
      { context: { option: 'registry' } },
    );
  }
  const prefix = options.prefix ?? 'stratacache_';
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new ConfigError(
      `prefix must be a valid metric name start ([a-zA-Z_:][a-zA-Z0-9_:]*); got ${JSON.stringify(prefix)}`,
      {
        context: { option: 'prefix' },
      },
    );
  }
  const maxLabelValues = options.maxLabelValues ?? 100;
  if (!Number.isInteger(maxLabelValues) || maxLabelValues < 1) {
    throw new ConfigError(`maxLabelValues must be a positive integer; got ${JSON.stringify(options.maxLabelValues)}`, {
      context: { option: 'maxLabelValues' },
    });
  }
  for (const cache of options.caches ?? []) {
    if (typeof cache?.stats !== 'function' || typeof cache.name !== 'string') {
      throw new ConfigError('caches must hold caches with a name and stats() (a patterns Cache)', {
        context: { option: 'caches' },
      });
    }
  }
  for (const manager of options.sessions ?? []) {
    if (typeof manager?.stats !== 'function' || typeof manager.namespace !== 'string') {
      throw new ConfigError('sessions must hold session managers with a namespace and stats()', {
        context: { option: 'sessions' },
      });
    }
  }
  const lookups = options.lookups ?? 'events';
  if (lookups !== 'events' && lookups !== 'stats') {
    throw new ConfigError(`lookups must be 'events' or 'stats'; got ${JSON.stringify(options.lookups)}`, {
      context: { option: 'lookups' },
    });
  }
  if (lookups === 'stats' && (options.caches ?? []).length === 0) {
    throw new ConfigError("lookups: 'stats' reads the counters of the caches in `caches`; pass at least one", {
      context: { option: 'lookups' },
    });
  }
  const scrapeTimeoutMs = toMs(options.scrapeTimeout ?? '500ms', 'scrapeTimeout');
  if (scrapeTimeoutMs <= 0)
    throw new ConfigError('scrapeTimeout must be more than 0 ms', { context: { option: 'scrapeTimeout' } });
  return Object.freeze({
    registry,
    redis: options.redis,
    prefix,
    fastBuckets: buckets(options.buckets?.fast, FAST_BUCKETS, 'buckets.fast'),
    slowBuckets: buckets(options.buckets?.slow, SLOW_BUCKETS, 'buckets.slow'),
    maxLabelValues,
    caches: Object.freeze([...(options.caches ?? [])]),
    lookups,
    sessions: Object.freeze([...(options.sessions ?? [])]),
    scrapeCacheTtlMs: toMs(options.scrapeCacheTtl ?? '1s', 'scrapeCacheTtl'),
    scrapeTimeoutMs,
  });
}
