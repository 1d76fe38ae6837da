/**
 * Events on `node:diagnostics_channel`, named `stratacache:patterns:<event>`,
 * and the in-process counters behind `cache.stats()`. Metrics subscribe by
 * name, so patterns never depends on metrics. Messages carry keys and
 * namespaces, never values. Publishing costs nothing when nobody listens.
 */
import { defineChannels } from '@stratacache/core-client';

const patterns = defineChannels('patterns', {
  /** `{ namespace, key, tier: 'memory' | 'redis' }`: a fresh value was served. One event per tier a lookup consulted. */
  hit: 'hit',
  /** `{ namespace, key, tier: 'memory' | 'redis' }`: the tier had no fresh value (missing, stale, a tombstone). */
  miss: 'miss',
  /** `{ namespace, key, reason: 'factory-error' | 'factory-timeout' | 'redis-error' | 'backoff' }`: a stale value was served. */
  stale: 'stale',
  /** `{ namespace, key }`: a value was written. */
  set: 'set',
  /** `{ namespace, keys }`: keys were deleted. */
  delete: 'delete',
  /** `{ namespace, key, durationMs, ok }`: a factory call ended (`ok: false`: it threw or failed). */
  factory: 'factory',
  /** `{ namespace, key, kind: 'soft' | 'hard' }`: a factory ran past a timeout. */
  timeout: 'timeout',
  /** `{ namespace, key, ok }`: a refresh-ahead (background) load ended. */
  refresh: 'refresh',
  /** `{ namespace, key, reason: 'invalidated' | 'older-version' | 'too-old' }`: a write-back was refused. */
  refused: 'refused',
  /** `{ namespace, reason: 'evict', count }`: the memory tier evicted entries to stay in its bounds (namespace: the root cache). */
  evict: 'evict',
  /** `{ namespace, operation, key, error }`: an operation failed (and was handled as the caller asked). */
  error: 'error',
  /** `{ namespace, depth, flushed, failed }`: the write-behind journal after a flush. */
  writeBehind: 'write-behind',
});

/**
 * Channel names published by the cache (`stratacache:patterns:<event>`).
 * Keys in messages are the caller's keys: fields for logs, never metric labels.
 */
export const PatternsChannels = patterns.names;

/** The name of a patterns channel. */
export type PatternsEvent = keyof typeof PatternsChannels;

/** True when someone listens on `event` (check before building a message). */
export function listening(event: PatternsEvent): boolean {
  return patterns.listening(event);
}

/** Publishes `message` on `event` when anyone listens. */
export function publish(event: PatternsEvent, message: Record<string, unknown>): void {
  patterns.publish(event, message);
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
