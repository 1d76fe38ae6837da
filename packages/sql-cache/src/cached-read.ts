/**
 * The cached read every verb of sql-cache shares: bypassed while Redis is
 * down or a horizon is open on one of its tables, else the Cache's
 * `getOrSet`, whose result is not written back from inside a transaction or
 * after a failed Redis read. None of it is `async`: a hit is the Cache's
 * promise and one `.then` (each async frame costs a promise and a resume).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { StrataRedis } from '@stratacache/core-client';
import { type Cache, PatternsChannels } from '@stratacache/patterns';
import { type Counters, listening, publish } from './diagnostics.js';
import type { Horizons } from './horizon.js';

/** The cached reads of one SqlCache. */
export class CachedReads {
  /** Keys whose Redis read failed in the load now running: its result goes to the caller only. */
  private readonly redisErrors = new Set<string>();
  private readonly onPatternsError: (message: unknown) => void;

  constructor(
    private readonly cache: Cache<unknown>,
    private readonly redis: StrataRedis | undefined,
    private readonly horizons: Horizons,
    private readonly counters: Counters,
  ) {
    // A load whose Redis read failed must not be cached: the Cache tells us on its error channel,
    // synchronously, before it calls the factory.
    this.onPatternsError = (message) => {
      const m = message as { namespace?: string; operation?: string; key?: string };
      if (m.namespace === this.cache.name && m.operation === 'get' && typeof m.key === 'string') {
        this.redisErrors.add(m.key);
        if (this.redisErrors.size > 10_000) this.redisErrors.clear();
      }
    };
    subscribe(PatternsChannels.error, this.onPatternsError);
  }

  /** Stops listening to the Cache's error channel. */
  close(): void {
    unsubscribe(PatternsChannels.error, this.onPatternsError);
  }

  /** The cached read (see the module comment); `guarded`: the tables whose horizons keep it off the cache. */
  cached<V>(
    tables: readonly string[],
    key: string,
    tags: readonly string[],
    ttlMs: number,
    load: () => Promise<V>,
    inTransaction: boolean,
    guarded: readonly string[],
  ): Promise<{ value: V; source: 'cache' | 'db' }> {
    // Not async: the hit path hands the lookup's own promise on (an async wrapper costs extra ticks per read).
    if (!listening('query')) return this.lookup(tables, key, tags, ttlMs, load, inTransaction, guarded);
    const started = performance.now();
    return this.lookup(tables, key, tags, ttlMs, load, inTransaction, guarded).then((answer) => {
      publish('query', { source: answer.source, durationMs: performance.now() - started });
      return answer;
    });
  }

  /** Not `async` (see `read`): the hit path is the Cache's promise and one `.then`. */
  private lookup<V>(
    tables: readonly string[],
    key: string,
    tags: readonly string[],
    ttlMs: number,
    load: () => Promise<V>,
    inTransaction: boolean,
    guarded: readonly string[],
  ): Promise<{ value: V; source: 'cache' | 'db' }> {
    if (this.redis?.breaker?.isOpen) {
      this.counters.fellBack('redis-down');
      return this.bypass(tables, load);
    }
    const open = this.horizons.isOpen(guarded);
    if (open === true) return this.bypass(tables, load);
    if (open !== false) {
      return open.then((isOpen) =>
        isOpen ? this.bypass(tables, load) : this.throughCache(tables, key, tags, ttlMs, load, inTransaction),
      );
    }
    return this.throughCache(tables, key, tags, ttlMs, load, inTransaction);
  }

  /** A read that may not use the cache (Redis down, a horizon open): from the database, counted. */
  private async bypass<V>(tables: readonly string[], load: () => Promise<V>): Promise<{ value: V; source: 'db' }> {
    const value = await load();
    this.counters.lookup(tables, 'bypass');
    return { value, source: 'db' };
  }

  /** `getOrSet`, whose result is not written back from inside a transaction or after a failed Redis read. */
  private throughCache<V>(
    tables: readonly string[],
    key: string,
    tags: readonly string[],
    ttlMs: number,
    load: () => Promise<V>,
    inTransaction: boolean,
  ): Promise<{ value: V; source: 'cache' | 'db' }> {
    let ran = false;
    if (this.redisErrors.size > 0) this.redisErrors.delete(key);
    // No per-call options: a hit then takes the Cache's resolved defaults (no option parsing per read);
    // a miss sets its TTL and tags from the factory. The Cache's `defaults.jitter` spreads the TTL.
    const pending = this.cache.getOrSet(key, async (fctx) => {
      ran = true;
      const loaded = await load();
      if (inTransaction) fctx.skip();
      else if (this.redisErrors.delete(key)) {
        // Redis failed on this load: the result goes to the caller only, not to any tier.
        this.counters.fellBack('redis-error');
        fctx.skip();
      } else {
        fctx.setTtl(ttlMs);
        fctx.setTags(tags);
      }
      return loaded;
    });
    return pending.then((value) => {
      this.counters.lookup(tables, ran ? 'miss' : 'hit');
      return { value: value as V, source: ran ? 'db' : 'cache' };
    });
  }
}
