/**
 * What the parts of a Cache share: the context of a cache and its child
 * namespaces (tiers, bus, lock, clock), and the state of one namespace (its
 * key heads, invalidator, loads in flight, counters). The read, load and
 * write paths are functions over a {@link NamespaceState}, so each lives in
 * its own file and the public `Cache` class only holds the verbs.
 */
import type { DistributedLock, StrataRedis } from '@stratacache/core-client';
import type { InvalidationBus, Invalidator } from '@stratacache/invalidation';
import type { Serializer } from '@stratacache/serializers';
import type { MemoryTier } from '../memory-tier.js';
import type { ResolvedEntryOptions } from '../options.js';
import type { Coherence } from './coherence.js';
import type { LandedSignal } from './landed.js';
import type { RedisReader } from './read-batch.js';
import type { Telemetry } from './telemetry.js';

/**
 * The clock entries are stamped and judged by: the Redis server's clock as
 * core-client estimates it (`redis.clock`), or the local clock for a
 * memory-only cache. `lower()` / `upper()` bound the true time.
 */
export interface CacheClock {
  /** True once `lower()` / `upper()` are real bounds. */
  readonly synced: boolean;
  now(): number;
  lower(): number;
  upper(): number;
  /** Resolves once `lower()` / `upper()` are real bounds (rejects when Redis cannot be read). */
  ready(): Promise<void>;
}

/** The local clock, for a cache without a Redis tier (one process: nothing to agree with). */
export const LOCAL_CLOCK: CacheClock = Object.freeze({
  synced: true,
  now: () => Date.now(),
  lower: () => Date.now(),
  upper: () => Date.now(),
  ready: () => Promise.resolve(),
});

/** State shared by a cache and its child namespaces. */
export interface CacheContext {
  redis: StrataRedis | undefined;
  /** How entries are read from Redis: batched per tick (one MGET), or one GET each. */
  reads: RedisReader | undefined;
  memory: MemoryTier | undefined;
  memoryTtlMs: number;
  clone: boolean;
  serializer: Serializer;
  bus: InvalidationBus | undefined;
  lock: DistributedLock | undefined;
  /** With a lock and Redis: wakes loads waiting on another process's lock when its value lands. */
  landed: LandedSignal | undefined;
  tags: 'eager' | 'lazy' | undefined;
  /** How long a delete's tombstone lives (and the oldest load that may write back onto an empty key). */
  tombstoneMs: number;
  loader: ((key: string) => unknown) | undefined;
  cluster: boolean;
  clock: CacheClock;
  /** Which keys remote invalidations touched, so a read or write that raced one does not fill memory. */
  coherence: Coherence;
}

/** A load in flight: callers share `result`; it leaves the map when the factory ends. */
export interface Flight {
  result: Promise<unknown>;
  /** The coherence mark when it began: a caller arriving after an invalidation of its key does not join it. */
  mark: number;
  /** Runs once the flight has left the map (a refresh-ahead its hit asked for). */
  afterwards?: () => void;
}

/** The state of one namespace of a cache. */
export interface NamespaceState {
  readonly ctx: CacheContext;
  /** The full namespace (`cache`, `cache.users`). */
  readonly name: string;
  readonly defaults: ResolvedEntryOptions;
  /** `{prefix}:{namespace}:`: every key of this namespace starts with it. */
  readonly nsHead: string;
  /** `{prefix}:{namespace}:e:`: entry keys. */
  readonly head: string;
  readonly maxKeyLength: number;
  readonly invalidator: Invalidator | undefined;
  readonly inflight: Map<string, Flight>;
  readonly telemetry: Telemetry;
  /**
   * The Redis keys of recent keys, in {@link KEY_SLOTS} slots picked by the
   * key's length and last character (see `redisKey`): `[key, rk, key, rk, ...]`.
   */
  readonly recentKeys: string[];
}

/** Slots of `NamespaceState.recentKeys` (a power of two). */
export const KEY_SLOTS = 16;

/** The value a caller gets from an entry: the stored object, or a copy with `memory.clone`. */
export function handOut(ns: NamespaceState, value: unknown): unknown {
  return ns.ctx.clone ? structuredClone(value) : value;
}
