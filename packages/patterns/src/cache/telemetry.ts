/**
 * One call per observable fact: bumps the namespace's counter (`stats()`)
 * and publishes on the matching diagnostics channel when anyone listens, so
 * the read, load and write paths say what happened in one line each.
 *
 * Counting rule: one logical lookup is one event per tier it consulted
 * (a memory miss, then a Redis hit, say). Re-reads a load makes while it
 * waits for another process's lock are not lookups and are not counted.
 */
import { channel } from 'node:diagnostics_channel';
import { type CacheStats, emptyStats, listening, PatternsChannels, publish } from '../diagnostics.js';

// The hit path's channels held directly: one property read when nobody listens.
const HIT = channel(PatternsChannels.hit);
const MISS = channel(PatternsChannels.miss);

/** Why a stale value was served. */
export type StaleReason = 'factory-error' | 'factory-timeout' | 'redis-error' | 'backoff';

/** Why a write-back was refused. */
export type RefusedReason = 'invalidated' | 'older-version' | 'too-old';

/** Counters and channels of one namespace. */
export class Telemetry {
  readonly counters: CacheStats = emptyStats();

  constructor(readonly namespace: string) {}

  hit(key: string, tier: 'memory' | 'redis'): void {
    if (tier === 'memory') this.counters.memoryHits++;
    else this.counters.redisHits++;
    if (HIT.hasSubscribers) HIT.publish({ namespace: this.namespace, key, tier });
  }

  miss(key: string, tier: 'memory' | 'redis'): void {
    if (tier === 'memory') this.counters.memoryMisses++;
    else this.counters.redisMisses++;
    if (MISS.hasSubscribers) MISS.publish({ namespace: this.namespace, key, tier });
  }

  stale(key: string, reason: StaleReason): void {
    this.counters.staleServed++;
    if (listening('stale')) publish('stale', { namespace: this.namespace, key, reason });
  }

  set(key: string): void {
    this.counters.sets++;
    if (listening('set')) publish('set', { namespace: this.namespace, key });
  }

  deleted(keys: readonly string[]): void {
    this.counters.deletes += keys.length;
    if (listening('delete')) publish('delete', { namespace: this.namespace, keys: [...keys] });
  }

  factoryStarted(): void {
    this.counters.factoryCalls++;
  }

  factoryEnded(key: string, durationMs: number, ok: boolean): void {
    if (!ok) this.counters.factoryErrors++;
    if (listening('factory')) publish('factory', { namespace: this.namespace, key, durationMs, ok });
  }

  timeout(key: string, kind: 'soft' | 'hard'): void {
    this.counters.timeouts++;
    if (listening('timeout')) publish('timeout', { namespace: this.namespace, key, kind });
  }

  refreshStarted(): void {
    this.counters.refreshes++;
  }

  refreshEnded(key: string, ok: boolean): void {
    if (listening('refresh')) publish('refresh', { namespace: this.namespace, key, ok });
  }

  refused(key: string, reason: RefusedReason): void {
    this.counters.refused++;
    if (listening('refused')) publish('refused', { namespace: this.namespace, key, reason });
  }

  /** An operation failed and was handled as the caller asked (thrown, or a fallback served). */
  failed(operation: string, key: string, error: unknown): void {
    this.counters.errors++;
    if (listening('error')) publish('error', { namespace: this.namespace, operation, key, error });
  }

  evicted(count: number): void {
    this.counters.evictions += count;
    if (listening('evict')) publish('evict', { namespace: this.namespace, reason: 'evict', count });
  }
}
