/**
 * Options of the cache, with their defaults. Every duration accepts ms or a
 * string such as `'5m'` (core-client's `Duration`).
 */
import type { DistributedLock, Duration, StrataRedis } from '@stratacache/core-client';
import { check, failOption } from '@stratacache/core-client';
import type { InvalidationBus } from '@stratacache/invalidation';
import type { Serializer } from '@stratacache/serializers';

/** The memory tier (L1): a bounded LRU of decoded values in this process. */
export interface MemoryTierOptions {
  /** Most entries kept. @default 10000 */
  maxEntries?: number;
  /** Most bytes kept, counting each entry's encoded size. @default unlimited (entries bound it) */
  maxBytes?: number;
  /**
   * Longest time a memory entry is trusted before Redis is read again (never
   * longer than the entry's own TTL). Short values bound how stale an
   * instance can be when a bus message is lost. @default the entry's TTL
   */
  ttl?: Duration;
  /**
   * Return a `structuredClone` of memory hits instead of the stored object.
   * Off by default: a hit then costs nothing, and callers must not mutate
   * what they get (mutating it changes what every later caller sees).
   * @default false
   */
  clone?: boolean;
}

/** Soft and hard factory timeouts. */
export interface FactoryTimeouts {
  /** With a stale value at hand, serve it after this long and let the factory finish in the background. */
  soft?: Duration;
  /** Give up waiting after this long: serve stale if any, else throw `FactoryTimeoutError`. The factory's signal aborts. */
  hard?: Duration;
}

/** Options of one entry: per call, or as the cache's `defaults`. */
export interface EntryOptions {
  /** How long a value is fresh. @default '5m' */
  ttl?: Duration;
  /** Random spread of the TTL, as a fraction (0.1 = +-10%), so keys written together do not expire together. @default 0.1 */
  jitter?: number;
  /**
   * How long past its TTL a value is kept for fail-safe: served when the
   * factory or Redis fails. `false` or 0 turns it off. @default false
   */
  grace?: Duration | false;
  /** After a failure served a stale value, how long to keep serving it before the factory is tried again. @default '5s' */
  graceBackoff?: Duration;
  /** Tags of the entry, for `deleteByTag` / `expireByTag`. */
  tags?: readonly string[];
  /** Factory timeouts. @default none */
  timeout?: FactoryTimeouts;
  /**
   * Refresh-ahead: when a hit finds less than this fraction of the TTL left,
   * one background load refreshes it while callers get the current value. `false` turns it off.
   * @default false
   */
  refreshAhead?: number | false;
  /** Cache `undefined` results (negative caching), for this long when a duration is given. @default false */
  cacheUndefined?: boolean | { ttl: Duration };
  /** Cache factory errors for this long; hits throw `CachedFactoryError`. @default false */
  cacheErrors?: false | { ttl: Duration };
  /** With a `lock`: how long to wait for another process's factory before calling ours. @default '10s' */
  lockWait?: Duration;
  /** With a `lock`: how long the stampede lock is held at most. @default '30s' */
  lockTtl?: Duration;
  /**
   * Throw Redis errors to the caller instead of falling back (memory, the
   * factory, or stale). Errors are always published on the `error` channel.
   * @default false
   */
  throwErrors?: boolean;
  /**
   * How `set` writes: `'relaxed'` writes and broadcasts without waiting,
   * `'eventual'` also validates in the background (reads back; drops the local
   * copy if another write won), `'strict'` writes under the `lock`, reads back
   * and throws `ConsistencyError` if another write won, and waits for the broadcast.
   * @default 'relaxed'
   */
  consistency?: 'relaxed' | 'eventual' | 'strict';
}

/** Options of {@link createCache}. */
export interface CacheOptions<T = unknown> {
  /** The Redis tier (L2). Without it the cache is memory only. */
  redis?: StrataRedis;
  /** The namespace of keys (`{prefix}:{namespace}:e:{key}`). @default 'cache' */
  namespace?: string;
  /** How values are encoded in Redis. @default json() */
  serializer?: Serializer;
  /** The memory tier, or `false` for none. @default { maxEntries: 10000 } */
  memory?: MemoryTierOptions | false;
  /** Use the Redis tier (when `redis` is given). @default true */
  redisTier?: boolean;
  /**
   * Send the Redis reads issued in the same tick (a `Promise.all` of gets, a
   * burst of getOrSet) as one MGET; a lone read stays one GET. `false` sends
   * one GET per read. In a batch, a key holding another Redis type (not a
   * string) reads as a miss, as in `getMany`, where a GET would be refused
   * with WRONGTYPE. @default true
   */
  batchReads?: boolean;
  /** Keeps memory tiers of every instance coherent; without it only this process's memory is updated. */
  bus?: InvalidationBus;
  /**
   * How tags are kept: `'eager'` (each write also adds the key to each tag's set, so `deleteByTag`
   * unlinks the entries; on Cluster those sets live on other masters, one more command per tag) or
   * `'lazy'` (invalidation times only, nothing written per entry).
   * @default 'eager' on standalone and Sentinel, 'lazy' on Cluster (no per-tag write to other masters)
   */
  tags?: 'eager' | 'lazy';
  /** A distributed lock (`@stratacache/coordination`'s `createLocks`) for one factory call per key across processes. */
  lock?: DistributedLock;
  /** Read-through: `get` calls this on a miss, as `getOrSet` would. */
  loader?: (key: string) => Promise<T> | T;
  /** Defaults of every entry. */
  defaults?: EntryOptions;
  /**
   * How long a delete's tombstone stays in Redis (at least `'1s'`). A load
   * that began longer ago than this may not write its result onto an empty
   * key (a delete since then could no longer be seen): it is returned to its
   * caller but not cached (`refused`, reason `too-old`). Keep it above your
   * slowest factory; it is never a window in which stale values get through.
   * @default '1m'
   */
  tombstoneTtl?: Duration;
}

/** Entry options with every default applied, in ms. */
export interface ResolvedEntryOptions {
  ttlMs: number;
  jitter: number;
  graceMs: number;
  backoffMs: number;
  tags: readonly string[];
  softMs: number;
  hardMs: number;
  refreshAhead: number;
  cacheUndefinedMs: number;
  cacheErrorsMs: number;
  lockWaitMs: number;
  lockTtlMs: number;
  throwErrors: boolean;
  consistency: 'relaxed' | 'eventual' | 'strict';
}

const NO_TAGS: readonly string[] = Object.freeze([]);

/** Applies `options` over `base` (already resolved), checking each value (`ConfigError` naming the option). */
export function resolveEntryOptions(
  options: EntryOptions | undefined,
  base: ResolvedEntryOptions = BASE_DEFAULTS,
): ResolvedEntryOptions {
  if (options === undefined) return base;
  if (typeof options !== 'object' || options === null) fail('options', 'an object', options);
  const out: ResolvedEntryOptions = { ...base };
  if (options.ttl !== undefined) out.ttlMs = positive(options.ttl, 'ttl');
  if (options.jitter !== undefined) out.jitter = fraction(options.jitter, 'jitter');
  if (options.grace !== undefined)
    out.graceMs = options.grace === false ? 0 : check.nonNegativeDuration(options.grace, 'grace');
  if (options.graceBackoff !== undefined)
    out.backoffMs = check.nonNegativeDuration(options.graceBackoff, 'graceBackoff');
  if (options.tags !== undefined) out.tags = checkTags(options.tags);
  if (options.timeout !== undefined) {
    if (typeof options.timeout !== 'object' || options.timeout === null)
      fail('timeout', 'an object { soft?, hard? }', options.timeout);
    out.softMs = options.timeout.soft === undefined ? 0 : positive(options.timeout.soft, 'timeout.soft');
    out.hardMs = options.timeout.hard === undefined ? 0 : positive(options.timeout.hard, 'timeout.hard');
  }
  if (options.refreshAhead !== undefined)
    out.refreshAhead = options.refreshAhead === false ? 0 : fraction(options.refreshAhead, 'refreshAhead');
  if (options.cacheUndefined !== undefined) {
    const c = options.cacheUndefined;
    if (c === false) out.cacheUndefinedMs = 0;
    else if (c === true) out.cacheUndefinedMs = -1;
    else if (typeof c === 'object' && c !== null) out.cacheUndefinedMs = positive(c.ttl, 'cacheUndefined.ttl');
    else fail('cacheUndefined', 'true, false or { ttl }', c);
  }
  if (options.cacheErrors !== undefined) {
    const c = options.cacheErrors;
    if (c === false) out.cacheErrorsMs = 0;
    else if (typeof c === 'object' && c !== null) out.cacheErrorsMs = positive(c.ttl, 'cacheErrors.ttl');
    else fail('cacheErrors', 'false or { ttl }', c);
  }
  if (options.lockWait !== undefined) out.lockWaitMs = check.nonNegativeDuration(options.lockWait, 'lockWait');
  if (options.lockTtl !== undefined) out.lockTtlMs = positive(options.lockTtl, 'lockTtl');
  if (options.throwErrors !== undefined) out.throwErrors = check.boolean(options.throwErrors, 'throwErrors');
  if (options.consistency !== undefined)
    out.consistency = check.oneOf(options.consistency, 'consistency', ['relaxed', 'eventual', 'strict']);
  return out;
}

/** The defaults of every entry. */
export const BASE_DEFAULTS: ResolvedEntryOptions = Object.freeze({
  ttlMs: 5 * 60_000,
  jitter: 0.1,
  graceMs: 0,
  backoffMs: 5_000,
  tags: NO_TAGS,
  softMs: 0,
  hardMs: 0,
  refreshAhead: 0,
  cacheUndefinedMs: 0,
  cacheErrorsMs: 0,
  lockWaitMs: 10_000,
  lockTtlMs: 30_000,
  throwErrors: false,
  consistency: 'relaxed',
}) as ResolvedEntryOptions;

/** Throws the `ConfigError` of a bad option value (core-client's wording: `X must be ...; got ...`). */
export function fail(option: string, expected: string, got: unknown): never {
  return failOption(option, `must be ${expected}`, got);
}

const positive = (value: unknown, option: string): number => check.positiveDuration(value, option);
const fraction = (value: unknown, option: string): number => check.fraction(value, option, { one: false });

function checkTags(tags: readonly string[]): readonly string[] {
  if (!Array.isArray(tags)) fail('tags', 'an array of strings', tags);
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0) fail('tags', 'non-empty strings', JSON.stringify(tag));
    if (/\p{Cs}/u.test(tag)) fail('tags', 'well-formed strings (no lone surrogate)', JSON.stringify(tag));
  }
  if (tags.length > 255) fail('tags', 'at most 255 tags', tags.length);
  return tags.length === 0 ? NO_TAGS : [...new Set(tags)];
}
