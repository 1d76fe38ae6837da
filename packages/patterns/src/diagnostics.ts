/**
 * Events on `node:diagnostics_channel`, named `stratacache:patterns:<event>`,
 * and the in-process counters behind `cache.stats()`. Metrics subscribe by
 * name, so patterns never depends on metrics. Messages carry keys and
 * namespaces, never values. Publishing costs nothing when nobody listens.
 */
import { channel } from 'node:diagnostics_channel';

/** Channel names published by the cache. */
export const PatternsChannels = Object.freeze({
  /** `{ namespace, key, tier: 'memory' | 'redis' }`: a fresh value was served. One event per tier a lookup consulted. */
  hit: 'stratacache:patterns:hit',
  /** `{ namespace, key, tier: 'memory' | 'redis' }`: the tier had no fresh value (missing, stale, a tombstone). */
  miss: 'stratacache:patterns:miss',
  /** `{ namespace, key, reason: 'factory-error' | 'factory-timeout' | 'redis-error' | 'backoff' }`: a stale value was served. */
  stale: 'stratacache:patterns:stale',
  /** `{ namespace, key }`: a value was written. */
  set: 'stratacache:patterns:set',
  /** `{ namespace, keys }`: keys were deleted. */
  delete: 'stratacache:patterns:delete',
  /** `{ namespace, key, durationMs, ok }`: a factory call ended (`ok: false`: it threw or failed). */
  factory: 'stratacache:patterns:factory',
  /** `{ namespace, key, kind: 'soft' | 'hard' }`: a factory ran past a timeout. */
  timeout: 'stratacache:patterns:timeout',
  /** `{ namespace, key, ok }`: a refresh-ahead (background) load ended. */
  refresh: 'stratacache:patterns:refresh',
  /** `{ namespace, key, reason: 'invalidated' | 'older-version' | 'too-old' }`: a write-back was refused. */
  refused: 'stratacache:patterns:refused',
  /** `{ namespace, reason: 'evict', count }`: the memory tier evicted entries to stay in its bounds (namespace: the root cache). */
  evict: 'stratacache:patterns:evict',
  /** `{ namespace, operation, key, error }`: an operation failed (and was handled as the caller asked). */
  error: 'stratacache:patterns:error',
  /** `{ namespace, depth, flushed, failed }`: the write-behind journal after a flush. */
  writeBehind: 'stratacache:patterns:write-behind',
});

/** The name of a patterns channel. */
export type PatternsEvent = keyof typeof PatternsChannels;

const channels = Object.fromEntries(
  Object.entries(PatternsChannels).map(([name, id]) => [name, channel(id)]),
) as Record<PatternsEvent, ReturnType<typeof channel>>;

/** True when someone listens on `event` (check before building a message). */
export function listening(event: PatternsEvent): boolean {
  return channels[event].hasSubscribers;
}

/** Publishes `message` on `event` when anyone listens. */
export function publish(event: PatternsEvent, message: Record<string, unknown>): void {
  const target = channels[event];
  if (target.hasSubscribers) target.publish(message);
}

/** Counters of one cache namespace, as `cache.stats()` returns them. */
export interface CacheStats {
  memoryHits: number;
  memoryMisses: number;
  redisHits: number;
  redisMisses: number;
  sets: number;
  deletes: number;
  staleServed: number;
  factoryCalls: number;
  factoryErrors: number;
  timeouts: number;
  refreshes: number;
  refused: number;
  errors: number;
  /** Memory-tier entries evicted by its bounds (counted on the root cache). */
  evictions: number;
}

/** A zeroed {@link CacheStats}. */
export function emptyStats(): CacheStats {
  return {
    memoryHits: 0,
    memoryMisses: 0,
    redisHits: 0,
    redisMisses: 0,
    sets: 0,
    deletes: 0,
    staleServed: 0,
    factoryCalls: 0,
    factoryErrors: 0,
    timeouts: 0,
    refreshes: 0,
    refused: 0,
    errors: 0,
    evictions: 0,
  };
}
