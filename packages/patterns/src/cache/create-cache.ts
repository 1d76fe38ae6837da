/**
 * `createCache`: resolves the cache's options once (every bad value is a
 * `ConfigError` naming the option) and builds the root namespace.
 */
import { ConfigError, check } from '@stratacache/core-client';
import { json } from '@stratacache/serializers';
import { listening, publish } from '../diagnostics.js';
import { MemoryTier } from '../memory-tier.js';
import { type CacheOptions, fail, resolveEntryOptions } from '../options.js';
import { Cache } from './cache.js';
import { Coherence } from './coherence.js';
import { LandedSignal } from './landed.js';
import { DirectRead, ReadBatch } from './read-batch.js';
import { type CacheContext, LOCAL_CLOCK } from './state.js';

/**
 * Creates a cache. With `redis` it has two tiers; with `bus`, every
 * instance's memory tier hears about every write and delete.
 *
 * @example
 * ```ts
 * const cache = createCache<User>({ redis, bus, defaults: { ttl: '10m', grace: '1h' } });
 * const user = await cache.getOrSet(`user:${id}`, () => db.findUser(id));
 * ```
 */
export function createCache<T = unknown>(options: CacheOptions<T> = {}): Cache<T> {
  const { ctx, namespace, defaults } = resolveCacheOptions(options);
  const cache = new Cache<T>(ctx, namespace, defaults);
  // Take the first clock sample now, so the first write does not wait for it.
  ctx.redis?.clock.ready().catch(() => {});
  // Subscribed before the first stampede: a waiter then never pays for the subscription.
  // Without it, waiters poll Redis as they would without the signal.
  ctx.landed?.start().catch((error: unknown) => {
    if (listening('error')) publish('error', { namespace, operation: 'subscribe', key: '', error });
  });
  return cache;
}

/** Checks every option of `createCache` and builds the shared context. */
export function resolveCacheOptions<T>(options: CacheOptions<T>) {
  if (typeof options !== 'object' || options === null) throw new ConfigError('createCache takes an options object');
  const memoryOptions = options.memory === false ? undefined : (options.memory ?? {});
  if (memoryOptions !== undefined && typeof memoryOptions !== 'object')
    throw new ConfigError(`memory must be an object or false; got ${JSON.stringify(options.memory)}`, {
      context: { option: 'memory' },
    });
  const maxEntries = memoryOptions?.maxEntries ?? 10_000;
  if (memoryOptions && !(Number.isInteger(maxEntries) && maxEntries > 0))
    fail('memory.maxEntries', 'a positive integer', maxEntries);
  const maxBytes = memoryOptions?.maxBytes;
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0))
    fail('memory.maxBytes', 'a positive integer', maxBytes);
  if (memoryOptions?.clone !== undefined) check.boolean(memoryOptions.clone, 'memory.clone');
  if (options.redisTier !== undefined) check.boolean(options.redisTier, 'redisTier');
  if (options.batchReads !== undefined) check.boolean(options.batchReads, 'batchReads');
  if (options.redis !== undefined) check.strataRedis(options.redis, 'redis');
  const redis = options.redisTier === false ? undefined : options.redis;
  if (!redis && !memoryOptions)
    throw new ConfigError('A cache needs at least one tier: pass redis, or keep the memory tier');
  if (options.serializer !== undefined && typeof options.serializer?.encode !== 'function')
    throw new ConfigError('serializer must be a Serializer from @stratacache/serializers', {
      context: { option: 'serializer' },
    });
  if (options.bus !== undefined && typeof options.bus?.publish !== 'function')
    throw new ConfigError('bus must be an InvalidationBus from @stratacache/invalidation', {
      context: { option: 'bus' },
    });
  if (options.lock !== undefined && typeof options.lock?.acquire !== 'function')
    throw new ConfigError('lock must implement DistributedLock (acquire(name, { ttlMs, waitMs }))', {
      context: { option: 'lock' },
    });
  if (options.loader !== undefined && typeof options.loader !== 'function')
    fail('loader', 'a function', options.loader);
  if (options.tags !== undefined && options.tags !== 'eager' && options.tags !== 'lazy')
    fail('tags', "'eager' or 'lazy'", options.tags);
  const namespace = options.namespace ?? 'cache';
  check.namespace(namespace, 'namespace');
  const tombstoneMs = check.positiveDuration(options.tombstoneTtl ?? '1m', 'tombstoneTtl');
  if (!(tombstoneMs >= 1000)) fail('tombstoneTtl', "at least '1s'", options.tombstoneTtl);
  const cluster = redis?.mode === 'cluster';
  const ctx: CacheContext = {
    redis,
    reads: redis ? (options.batchReads === false ? new DirectRead(redis) : new ReadBatch(redis)) : undefined,
    memory: memoryOptions ? new MemoryTier(maxEntries, maxBytes) : undefined,
    memoryTtlMs: memoryOptions?.ttl === undefined ? 0 : check.positiveDuration(memoryOptions.ttl, 'memory.ttl'),
    clone: memoryOptions?.clone ?? false,
    serializer: options.serializer ?? json(),
    bus: options.bus,
    lock: options.lock,
    landed: redis && options.lock ? new LandedSignal(redis, namespace) : undefined,
    tags: options.tags ?? (cluster ? 'lazy' : undefined),
    tombstoneMs,
    loader: options.loader,
    cluster,
    clock: redis ? redis.clock : LOCAL_CLOCK,
    coherence: new Coherence(),
  };
  return { ctx, namespace, defaults: resolveEntryOptions(options.defaults) };
}
