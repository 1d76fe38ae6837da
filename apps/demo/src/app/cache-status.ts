/**
 * What the caches did for one request, as the layers themselves report it on
 * their diagnostics channels: sql-cache's `lookup` and `fallback`, and the
 * patterns Cache's `hit` (with its tier) and `stale`. A request runs its reads
 * inside {@link observe}; an AsyncLocalStorage store collects the events its
 * own calls publish (diagnostics_channel publishes synchronously, in the
 * caller's async context), so concurrent requests never see each other's.
 *
 * The result becomes the response headers `x-cache` (hit, miss, stale or
 * bypass), `x-cache-tier` (memory or redis, on a hit) and `server-timing`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import { PatternsChannels } from '@stratacache/patterns';
import { SqlCacheChannels } from '@stratacache/sql-cache';
import type { FastifyReply } from 'fastify';

/** The verdict shown in `x-cache`. */
export type CacheVerdict = 'hit' | 'miss' | 'stale' | 'bypass';

interface Observation {
  /** Only the patterns events of this cache namespace count (a factory's own reads publish too). */
  namespace: string;
  /** Whether sql-cache's lookups decide (catalog reads) or not (a Cache factory that reads through sql-cache). */
  sql: boolean;
  lookups: string[];
  fallbacks: string[];
  tiers: string[];
  stale: string[];
}

const storage = new AsyncLocalStorage<Observation>();

const own = (message: unknown): Observation | undefined => {
  const store = storage.getStore();
  return store && (message as { namespace?: string }).namespace === store.namespace ? store : undefined;
};
subscribe(SqlCacheChannels.lookup, (message) => {
  const store = storage.getStore();
  if (store?.sql) store.lookups.push((message as { result: string }).result);
});
subscribe(SqlCacheChannels.fallback, (message) => {
  const store = storage.getStore();
  if (store?.sql) store.fallbacks.push((message as { reason: string }).reason);
});
subscribe(PatternsChannels.hit, (message) => {
  own(message)?.tiers.push((message as { tier: string }).tier);
});
subscribe(PatternsChannels.stale, (message) => {
  own(message)?.stale.push((message as { reason: string }).reason);
});

/** What {@link observe} found. */
export interface Observed<T> {
  value: T;
  verdict: CacheVerdict;
  /** The tier of a hit: the fastest one that answered. */
  tier?: 'memory' | 'redis';
  /** Why stale or bypass, when the layers said. */
  reason?: string;
  durationMs: number;
}

/**
 * Runs `fn` and says what the cache of `namespace` did. `sql: true` for reads
 * through sql-cache (its lookups decide); `loaded` tells whether `fn` ran a
 * factory (a miss) for a patterns Cache, which publishes no lookup result of
 * its own; `bypass` marks reads that skipped the cache on purpose.
 */
export async function observe<T>(
  fn: () => Promise<T>,
  options: { namespace: string; sql?: boolean; loaded?: (value: T) => boolean; bypass?: boolean },
): Promise<Observed<T>> {
  const seen: Observation = {
    namespace: options.namespace,
    sql: options.sql ?? false,
    lookups: [],
    fallbacks: [],
    tiers: [],
    stale: [],
  };
  const t0 = performance.now();
  const value = await storage.run(seen, fn);
  const durationMs = performance.now() - t0;
  const tier = seen.tiers.includes('memory') ? 'memory' : seen.tiers.includes('redis') ? 'redis' : undefined;
  if (options.bypass || seen.lookups.includes('uncached'))
    return { value, verdict: 'bypass', reason: 'requested', durationMs };
  if (seen.fallbacks.length > 0) return { value, verdict: 'bypass', reason: seen.fallbacks[0], durationMs };
  if (seen.lookups.includes('bypass')) return { value, verdict: 'bypass', reason: 'write-in-progress', durationMs };
  if (options.loaded?.(value) || seen.lookups.includes('miss')) return { value, verdict: 'miss', durationMs };
  if (seen.stale.length > 0) return { value, verdict: 'stale', reason: seen.stale[0], durationMs };
  return { value, verdict: 'hit', ...(tier ? { tier } : {}), durationMs };
}

/** Sets `x-cache`, `x-cache-tier` and `server-timing` from what {@link observe} found. */
export function cacheHeaders(reply: FastifyReply, observed: Observed<unknown>, label = 'cache'): void {
  reply.header('x-cache', observed.verdict);
  if (observed.tier) reply.header('x-cache-tier', observed.tier);
  if (observed.reason) reply.header('x-cache-reason', observed.reason);
  const desc = observed.tier ? `${observed.verdict} (${observed.tier})` : observed.verdict;
  reply.header('server-timing', `${label};desc="${desc}";dur=${observed.durationMs.toFixed(2)}`);
}

/** True when the client asked to skip the cache: `?cache=off` or `x-cache-bypass: 1` (the load run's "cache off"). */
export function wantsBypass(query: unknown, headers: Record<string, unknown>): boolean {
  const q = (query as { cache?: string } | undefined)?.cache;
  return q === 'off' || headers['x-cache-bypass'] === '1';
}
