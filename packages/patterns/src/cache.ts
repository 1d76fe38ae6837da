/**
 * The Cache: a memory tier (L1) over a Redis tier (L2), kept coherent across
 * instances by the invalidation bus, with getOrSet (single-flight in process,
 * a distributed lock across processes), grace / fail-safe, soft and hard
 * factory timeouts, refresh-ahead, negative caching and versioned writes.
 *
 * Reads never wait for anything but the tier that answers: a memory hit is a
 * map lookup, a Redis hit is one GET. Everything else (locks, scripts, bus
 * messages) happens on misses and writes.
 */
import {
  ConfigError,
  ConsistencyError,
  type DistributedLock,
  defineScript,
  encodeKeyPart,
  KeyError,
  type LockHandle,
  type LuaScript,
  type StrataRedis,
  toMs,
} from '@stratacache/core-client';
import { createInvalidator, type InvalidationBus, type Invalidator } from '@stratacache/invalidation';
import { json, type Serializer } from '@stratacache/serializers';
import { type CacheStats, emptyStats, listening, publish } from './diagnostics.js';
import { decodeEntry, EntryKind, encodeEntry, encodeTombstone, type RawEntry } from './entry.js';
import { CachedFactoryError, FactoryTimeoutError } from './errors.js';
import { type Factory, FactoryCall, waitWithTimeouts } from './factory.js';
import { luaScripts } from './lua.generated.js';
import { type MemoryEntry, MemoryTier } from './memory-tier.js';
import { type CacheOptions, type EntryOptions, type ResolvedEntryOptions, resolveEntryOptions } from './options.js';

/** Options of `set`. */
export interface SetOptions extends EntryOptions {
  /** Versioned write: refused (resolves `false`) when the stored entry has a newer version. */
  version?: number;
}

/** One entry of `setMany`. */
export interface SetManyItem<T> extends SetOptions {
  key: string;
  value: T;
}

/**
 * What `getOrSetMany`'s loader returns for the keys it was given: a Map, a
 * plain object, or an array aligned with the keys. Keys left out are
 * `undefined` (not cached unless `cacheUndefined`).
 */
export type ManyResult<T> = Map<string, T> | Record<string, T> | readonly T[];

/** What `write` (write-through) resolves. */
export interface WriteResult {
  /** The cache holds the new value. */
  cached: boolean;
  /** Why it does not: the cache write failed after the source succeeded (the key was invalidated). */
  error?: unknown;
}

/** State shared by a cache and its child namespaces. */
interface Shared {
  redis: StrataRedis | undefined;
  memory: MemoryTier | undefined;
  memoryTtlMs: number;
  clone: boolean;
  serializer: Serializer;
  bus: InvalidationBus | undefined;
  lock: DistributedLock | undefined;
  tags: 'eager' | 'lazy' | undefined;
  raceWindowMs: number;
  loader: ((key: string) => unknown) | undefined;
  cluster: boolean;
}

/** A value read from Redis (or not). */
interface Found {
  state: 'fresh' | 'stale' | 'miss' | 'error';
  entry?: MemoryEntry;
  /** The tombstone the read saw, for the stale-set race check. */
  observed?: Buffer;
  error?: unknown;
}

/** A load in flight: callers share `result`; the entry leaves when `until` settles (a factory past its soft timeout). */
interface Flight {
  result: Promise<unknown>;
}

const NEEDS_ENCODING = /[%:{}]/;
const RESERVED_CHILDREN = new Set(['inv', 'meta']);
const MISS: Found = Object.freeze({ state: 'miss' }) as Found;
const noop = () => {};

/** The cache of one namespace. Create it with {@link createCache}; `namespace()` gives children. */
export class Cache<T = unknown> {
  /** The full namespace (`cache`, `cache.users`). */
  readonly name: string;
  private readonly shared: Shared;
  private readonly defaults: ResolvedEntryOptions;
  /** `{prefix}:{namespace}:`: every key of this namespace starts with it. */
  private readonly nsHead: string;
  /** `{prefix}:{namespace}:e:`: entry keys. */
  private readonly head: string;
  private readonly maxKeyLength: number;
  private readonly invalidator: Invalidator | undefined;
  private readonly clearMarker: string | undefined;
  private readonly inflight = new Map<string, Flight>();
  private readonly children = new Map<string, Cache<T>>();
  private readonly counters: CacheStats = emptyStats();
  private readonly unregister: (() => void) | undefined;
  private readonly scripts = new Map<number, LuaScript>();

  /** @internal Use {@link createCache}. */
  constructor(shared: Shared, namespace: string, defaults: ResolvedEntryOptions) {
    this.shared = shared;
    this.name = namespace;
    this.defaults = defaults;
    const redis = shared.redis;
    const keys = redis?.keys(namespace);
    this.nsHead = keys ? `${keys.prefix}:${namespace}:` : `memory:${namespace}:`;
    this.head = `${this.nsHead}e:`;
    this.maxKeyLength = keys?.maxLength ?? 1024;
    if (redis) {
      this.invalidator = createInvalidator(redis, {
        namespace,
        ...(shared.bus ? { bus: shared.bus } : {}),
        ...(shared.tags ? { tags: shared.tags } : {}),
      });
      this.clearMarker = keys?.child('meta').key('cleared', 'at');
    }
    const memory = shared.memory;
    if (memory && shared.bus) {
      const inNamespace = (key: string) => key.startsWith(this.nsHead);
      this.unregister = shared.bus.register({
        namespace,
        deleteLocal: (items) => {
          for (const key of items) memory.delete(key);
        },
        expireLocal: (items, at) => {
          for (const key of items) {
            const entry = memory.peek(key);
            if (entry) expireEntry(entry, at);
          }
        },
        deleteLocalByPrefix: (prefixes) =>
          memory.deleteWhere((key) => prefixes.some((p) => key.startsWith(this.nsHead + p))),
        deleteLocalByTags: (tags) =>
          memory.deleteWhere((key, entry) => inNamespace(key) && entry.tags.some((t) => tags.includes(t))),
        expireLocalByTags: (tags, at) =>
          memory.expireWhere(at, (key, entry) => inNamespace(key) && entry.tags.some((t) => tags.includes(t))),
        clearLocal: () => memory.deleteWhere(inNamespace),
      });
    }
  }

  // ---------------------------------------------------------------- reads

  /**
   * The fresh value of `key`, or `undefined`. With a `loader` configured
   * (read-through), a miss loads it as `getOrSet` would.
   */
  get(key: string, options?: EntryOptions): Promise<T | undefined> {
    const rk = this.redisKey(key);
    const memory = this.shared.memory;
    if (memory !== undefined) {
      const entry = memory.get(rk);
      if (entry !== undefined && entry.checkAt > Date.now()) return this.memoryHit(key, entry);
    }
    if (this.shared.loader) {
      const loader = this.shared.loader;
      return this.getOrSet(key, () => loader(key) as T, options);
    }
    return this.getFromRedis(key, rk, resolveEntryOptions(options, this.defaults));
  }

  /** True when `key` has a fresh value. */
  async has(key: string): Promise<boolean> {
    const rk = this.redisKey(key);
    const entry = this.shared.memory?.get(rk);
    if (entry !== undefined && entry.checkAt > Date.now()) return true;
    if (!this.shared.redis) return false;
    const found = await this.readRedis(key, rk, this.defaults);
    if (found.state === 'error') return this.fallback(key, rk, found.error, this.defaults, 'has') !== undefined;
    return found.state === 'fresh';
  }

  /** Fresh values of `keys` (`undefined` for misses), memory first, then one batched Redis read. */
  async getMany(keys: readonly string[]): Promise<(T | undefined)[]> {
    const { values, found } = await this.lookupMany(keys, this.defaults);
    for (let i = 0; i < keys.length; i++) {
      const f = found[i];
      if (f && f.state === 'error')
        values[i] = this.fallback(
          keys[i] as string,
          this.redisKey(keys[i] as string),
          f.error,
          this.defaults,
          'getMany',
        ) as T;
    }
    return values;
  }

  /**
   * The value of `key`; on a miss, `factory` loads it, once per key in this
   * process (single-flight) and, with a `lock`, once across processes.
   */
  getOrSet(key: string, factory: Factory<T>, options?: EntryOptions): Promise<T> {
    const rk = this.redisKey(key);
    const opts = options === undefined ? this.defaults : resolveEntryOptions(options, this.defaults);
    const memory = this.shared.memory;
    if (memory !== undefined) {
      const entry = memory.get(rk);
      if (entry !== undefined) {
        const now = Date.now();
        if (entry.checkAt > now) {
          if (opts.refreshAhead > 0 && entry.expiresAt - now < entry.ttlMs * opts.refreshAhead)
            this.refreshAhead(key, rk, factory, opts);
          return this.memoryHit(key, entry) as Promise<T>;
        }
      }
    }
    return this.load(key, rk, factory, opts, false);
  }

  /**
   * The values of `keys`; the misses are loaded by one `loader` call that
   * receives only the missing keys. Keys another call is already loading are
   * awaited, not loaded twice.
   */
  async getOrSetMany(
    keys: readonly string[],
    loader: (missing: string[]) => Promise<ManyResult<T>> | ManyResult<T>,
    options?: EntryOptions,
  ): Promise<T[]> {
    const opts = resolveEntryOptions(options, this.defaults);
    const { values, found } = await this.lookupMany(keys, opts);
    const waits: Promise<void>[] = [];
    const missing: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const f = found[i];
      if (f === undefined || f.state === 'fresh') continue;
      const flight = this.inflight.get(this.redisKey(keys[i] as string));
      if (flight) {
        waits.push(
          flight.result.then((v) => {
            values[i] = v as T;
          }),
        );
      } else if (!missing.some((j) => keys[j] === keys[i])) {
        missing.push(i);
      }
    }
    if (missing.length > 0) {
      const missingKeys = missing.map((i) => keys[i] as string);
      const started = Date.now();
      const batch = (async () => {
        this.counters.factoryCalls++;
        const result = await loader(missingKeys);
        return missingKeys.map((k, j) => pick(result, k, j));
      })();
      // Register each missing key as in flight, so getOrSet of one of them joins this batch.
      missing.forEach((i, j) => {
        const rk = this.redisKey(keys[i] as string);
        const result = batch.then((list) => list[j]);
        result.catch(noop);
        this.inflight.set(rk, { result });
      });
      try {
        const loaded = await batch;
        await Promise.all(
          missing.map(async (i, j) => {
            const key = keys[i] as string;
            const rk = this.redisKey(key);
            const value = loaded[j] as T;
            values[i] = value;
            const call = new FactoryCall<T>(key, undefined);
            await this.writeBack(key, rk, value, call, opts, found[i]?.observed, started);
          }),
        );
      } catch (error) {
        this.counters.factoryErrors++;
        // Serve what grace allows; without a stale value for every failed key the call fails.
        for (const i of missing) {
          const stale = found[i]?.entry;
          if (!stale || stale.kind !== EntryKind.value || stale.staleUntil <= Date.now()) throw error;
          values[i] = this.staleServed(keys[i] as string, stale, 'factory-error') as T;
        }
      } finally {
        for (const i of missing) this.inflight.delete(this.redisKey(keys[i] as string));
      }
    }
    await Promise.all(waits);
    return values as T[];
  }

  // ---------------------------------------------------------------- writes

  /**
   * Writes `value` to both tiers and tells other instances to drop their
   * copies. Resolves `false` when a versioned write was refused (a newer
   * version is stored).
   */
  async set(key: string, value: T, options?: SetOptions): Promise<boolean> {
    const rk = this.redisKey(key);
    const opts = resolveEntryOptions(options, this.defaults);
    const version = checkVersion(options?.version);
    if (opts.consistency === 'strict') return this.setStrict(key, rk, value, opts, version);
    const written = await this.store(key, rk, value, EntryKind.value, opts.ttlMs, opts.tags, version, opts, null);
    if (written && opts.consistency === 'eventual') void this.validate(key, rk, written);
    return written !== false;
  }

  /** Writes several entries; their Redis writes are in flight together (one round trip), each broadcast as a `set`. */
  async setMany(items: readonly SetManyItem<T>[]): Promise<boolean[]> {
    return Promise.all(items.map((item) => this.set(item.key, item.value, item)));
  }

  /**
   * Deletes `key` in both tiers and on every instance. In Redis a short-lived
   * tombstone replaces the value, so a load that read the source before this
   * delete cannot write its value back after it. Resolves whether a value existed.
   */
  async delete(key: string, options?: { throwErrors?: boolean }): Promise<boolean> {
    return (await this.deleteMany([key], options)) > 0;
  }

  /** Deletes `keys`; resolves how many held a value. */
  async deleteMany(keys: readonly string[], options?: { throwErrors?: boolean }): Promise<number> {
    const rks = keys.map((k) => this.redisKey(k));
    const memory = this.shared.memory;
    let existed = 0;
    if (memory) for (const rk of rks) if (memory.delete(rk)) existed++;
    const redis = this.shared.redis;
    if (redis) {
      const now = Date.now();
      const window = this.shared.raceWindowMs;
      try {
        const olds = await redis.run('set', (c) =>
          Promise.all(
            rks.map((rk) => c.callBuffer('SET', rk, encodeTombstone(now, window), 'PX', String(window), 'GET')),
          ),
        );
        existed = 0;
        for (const old of olds) if (Buffer.isBuffer(old) && decodeEntry(old)?.kind === EntryKind.value) existed++;
      } catch (error) {
        this.failed('delete', keys[0] as string, error);
        if (options?.throwErrors ?? this.defaults.throwErrors) throw error;
      }
    }
    this.counters.deletes += rks.length;
    if (listening('delete')) publish('delete', { namespace: this.name, keys: [...keys] });
    await this.broadcast('dk', rks, false);
    return existed;
  }

  /**
   * Marks `key` stale now, keeping it for grace readers (fail-safe); without a
   * grace period it is deleted. Resolves whether there was a value.
   */
  async expire(key: string, options?: EntryOptions): Promise<boolean> {
    const opts = resolveEntryOptions(options, this.defaults);
    if (opts.graceMs <= 0) return this.delete(key, options);
    const rk = this.redisKey(key);
    const now = Date.now();
    let changed = false;
    const local = this.shared.memory?.peek(rk);
    if (local) {
      expireEntry(local, now);
      local.staleUntil = Math.min(local.staleUntil, now + opts.graceMs);
      changed = true;
    }
    const redis = this.shared.redis;
    if (redis) {
      try {
        changed = (await redis.runScript(luaScripts.retime, [rk], [now, opts.graceMs, '1'])) === 1 || changed;
      } catch (error) {
        this.failed('expire', key, error);
        if (opts.throwErrors) throw error;
      }
    }
    await this.broadcast('ek', [rk], false);
    return changed;
  }

  /** Restarts the TTL of `key` (its `ttl`, or the default) without rewriting the value. Resolves whether it exists. */
  async touch(key: string, options?: EntryOptions): Promise<boolean> {
    const opts = resolveEntryOptions(options, this.defaults);
    const rk = this.redisKey(key);
    const now = Date.now();
    let changed = false;
    const local = this.shared.memory?.peek(rk);
    if (local && local.staleUntil > now) {
      local.expiresAt = now + opts.ttlMs;
      local.checkAt = Math.min(local.expiresAt, now + (this.shared.memoryTtlMs || opts.ttlMs));
      local.staleUntil = local.expiresAt + opts.graceMs;
      local.ttlMs = opts.ttlMs;
      changed = true;
    }
    const redis = this.shared.redis;
    if (redis) {
      try {
        changed =
          (await redis.runScript(luaScripts.retime, [rk], [now + opts.ttlMs, opts.ttlMs + opts.graceMs, '0'])) === 1;
      } catch (error) {
        this.failed('touch', key, error);
        if (opts.throwErrors) throw error;
      }
    }
    return changed;
  }

  /**
   * Empties this namespace (not its children) in Redis and in every
   * instance's memory tier. Loads in flight cannot write back what they read before.
   */
  async clear(): Promise<void> {
    const redis = this.shared.redis;
    if (redis && this.invalidator && this.clearMarker) {
      const marker = this.clearMarker;
      await redis.run('set', (c) => c.set(marker, String(Date.now()), 'PX', this.shared.raceWindowMs));
      await this.invalidator.clear();
    } else {
      await this.broadcast('c', null, false);
    }
    // Without a bus (or memory-only), nobody dispatched the clear to this process's memory.
    if (!this.shared.bus) this.shared.memory?.deleteWhere((key) => key.startsWith(this.nsHead));
  }

  /** Deletes every entry holding one of `tags` (they become misses). */
  async deleteByTag(tags: readonly string[]): Promise<void> {
    if (this.invalidator) await this.invalidator.deleteByTag(tags);
    else await this.broadcast('dt', [...tags], false);
    if (!this.shared.bus)
      this.shared.memory?.deleteWhere((key, e) => key.startsWith(this.nsHead) && e.tags.some((t) => tags.includes(t)));
  }

  /** Marks every entry holding one of `tags` stale (kept for grace readers). */
  async expireByTag(tags: readonly string[]): Promise<void> {
    if (this.invalidator) await this.invalidator.expireByTag(tags);
    else await this.broadcast('et', [...tags], false);
    if (!this.shared.bus)
      this.shared.memory?.expireWhere(
        Date.now(),
        (key, e) => key.startsWith(this.nsHead) && e.tags.some((t) => tags.includes(t)),
      );
  }

  /** Deletes every key starting with `prefix` (SCAN + UNLINK in Redis), everywhere. Resolves how many went in Redis. */
  async deleteByPrefix(prefix: string): Promise<number> {
    const relative = `e:${encodeKeyPart(prefix)}`;
    let removed = 0;
    if (this.invalidator) removed = await this.invalidator.deleteByPrefix(relative);
    else await this.broadcast('dp', [relative], false);
    if (!this.shared.bus) this.shared.memory?.deleteWhere((key) => key.startsWith(this.nsHead + relative));
    return removed;
  }

  /**
   * Write-through: writes `value` to the source with `writer` first; only if
   * that succeeds, to the cache. If the cache write then fails, the key is
   * invalidated (so nobody reads the old value) and the error is returned and
   * published; the source write is never undone.
   */
  async write(
    key: string,
    value: T,
    writer: (value: T) => Promise<unknown> | unknown,
    options?: SetOptions,
  ): Promise<WriteResult> {
    await writer(value);
    try {
      await this.set(key, value, { ...options, throwErrors: true });
      return { cached: true };
    } catch (error) {
      this.failed('write', key, error);
      await this.delete(key).catch(noop);
      return { cached: false, error };
    }
  }

  // ---------------------------------------------------------------- namespaces, stats

  /** A child namespace (`cache.users`): its own keys, `clear()` and tags; same tiers and options. */
  namespace(name: string): Cache<T> {
    if (RESERVED_CHILDREN.has(name)) throw new ConfigError(`Namespace name '${name}' is reserved`);
    let child = this.children.get(name);
    if (!child) {
      const full = `${this.name}.${name}`;
      if (this.shared.redis)
        this.shared.redis.keys(full); // validates the name (KeyError)
      else if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
        throw new KeyError(`namespace must be 1-64 letters, digits, _ or -; got ${JSON.stringify(name)}`);
      child = new Cache<T>(this.shared, full, this.defaults);
      this.children.set(name, child);
    }
    return child;
  }

  /** Counters of this namespace since creation. */
  stats(): CacheStats & { memoryEntries: number; inflight: number } {
    return { ...this.counters, memoryEntries: this.shared.memory?.size ?? 0, inflight: this.inflight.size };
  }

  /** Stops following the bus (this namespace and its children). Does not close Redis or the bus. */
  close(): void {
    this.unregister?.();
    this.invalidator?.close();
    for (const child of this.children.values()) child.close();
  }

  // ---------------------------------------------------------------- internals: reads

  /** The Redis key of `key`, also the memory tier's key. */
  private redisKey(key: string): string {
    if (typeof key !== 'string' || key.length === 0)
      throw new KeyError(`A cache key must be a non-empty string; got ${JSON.stringify(key)}`);
    const rk = this.head + (NEEDS_ENCODING.test(key) ? encodeKeyPart(key) : key);
    if (rk.length * 3 > this.maxKeyLength && Buffer.byteLength(rk) > this.maxKeyLength)
      throw new KeyError(`Key of ${Buffer.byteLength(rk)} bytes is over maxKeyLength (${this.maxKeyLength})`, {
        context: { length: Buffer.byteLength(rk) },
      });
    return rk;
  }

  private memoryHit(key: string, entry: MemoryEntry): Promise<T | undefined> {
    this.counters.memoryHits++;
    if (listening('hit')) publish('hit', { namespace: this.name, key, tier: 'memory' });
    return this.served(entry);
  }

  private served(entry: MemoryEntry): Promise<T | undefined> {
    if (entry.kind === EntryKind.error) return Promise.reject(cachedError(entry.value));
    return Promise.resolve((this.shared.clone ? structuredClone(entry.value) : entry.value) as T);
  }

  /** The Redis half of `get`: one promise chain on the hit path (each async layer costs a tick). */
  private getFromRedis(key: string, rk: string, opts: ResolvedEntryOptions): Promise<T | undefined> {
    if (this.shared.memory) this.counters.memoryMisses++;
    if (!this.shared.redis) return Promise.resolve(undefined);
    return this.readRedis(key, rk, opts).then((found) => {
      if (found.state === 'fresh') {
        const entry = found.entry as MemoryEntry;
        if (entry.kind === EntryKind.error) throw cachedError(entry.value);
        return (this.shared.clone ? structuredClone(entry.value) : entry.value) as T;
      }
      if (found.state === 'error') return this.fallback(key, rk, found.error, opts, 'get') as T | undefined;
      return undefined;
    });
  }

  /** With Redis failing: a memory entry still fresh by its own expiry is served; else the error or undefined. */
  private fallback(key: string, rk: string, error: unknown, opts: ResolvedEntryOptions, operation: string): unknown {
    this.failed(operation, key, error);
    const entry = this.shared.memory?.peek(rk);
    if (entry && entry.kind === EntryKind.value && entry.expiresAt > Date.now()) return entry.value;
    if (opts.throwErrors) throw error;
    return undefined;
  }

  /** One GET, judged: fresh, stale (within grace), miss (with the tombstone seen), or error. */
  private readRedis(key: string, rk: string, opts: ResolvedEntryOptions): Promise<Found> {
    const redis = this.shared.redis as StrataRedis;
    return redis
      .run('get', (c) => c.getBuffer(rk))
      .then(
        (buf) => this.judge(key, rk, buf, opts),
        (error: unknown): Found => ({ state: 'error', error }),
      );
  }

  /** Reads `keys`: memory hits first, the rest in one batched Redis read. */
  private async lookupMany(
    keys: readonly string[],
    opts: ResolvedEntryOptions,
  ): Promise<{ values: (T | undefined)[]; found: (Found | undefined)[] }> {
    const values: (T | undefined)[] = new Array(keys.length).fill(undefined);
    const found: (Found | undefined)[] = new Array(keys.length).fill(undefined);
    const memory = this.shared.memory;
    const now = Date.now();
    const rest: number[] = [];
    const rks = keys.map((key) => this.redisKey(key));
    for (let i = 0; i < keys.length; i++) {
      const rk = rks[i] as string;
      const entry = memory?.get(rk);
      if (entry !== undefined && entry.checkAt > now && entry.kind === EntryKind.value) {
        this.counters.memoryHits++;
        values[i] = (this.shared.clone ? structuredClone(entry.value) : entry.value) as T;
      } else {
        if (memory) this.counters.memoryMisses++;
        rest.push(i);
        found[i] = entry && entry.staleUntil > now ? { state: 'stale', entry } : MISS;
      }
    }
    const redis = this.shared.redis;
    if (rest.length === 0 || !redis) return { values, found };
    let bufs: (Buffer | null)[];
    try {
      bufs = await redis.getMany(rest.map((i) => rks[i] as string));
    } catch (error) {
      for (const i of rest)
        found[i] = { state: 'error', error, ...(found[i]?.entry ? { entry: found[i]?.entry } : {}) };
      return { values, found };
    }
    await Promise.all(
      rest.map(async (i, j) => {
        const key = keys[i] as string;
        const f = await this.judge(key, rks[i] as string, bufs[j] ?? null, opts);
        if (f.state === 'fresh')
          values[i] = (this.shared.clone ? structuredClone(f.entry?.value) : f.entry?.value) as T;
        // A stale value found in memory still serves grace when Redis has nothing better.
        found[i] = f.state === 'miss' && found[i]?.entry ? { ...f, state: 'stale', entry: found[i]?.entry } : f;
      }),
    );
    return { values, found };
  }

  /** Turns the bytes of a GET into a judged entry; synchronous unless the entry has tags to check. */
  private judge(key: string, rk: string, buf: Buffer | null, opts: ResolvedEntryOptions): Found | Promise<Found> {
    if (buf === null) return this.redisMiss(key);
    const raw = decodeEntry(buf);
    if (raw === null) return this.redisMiss(key);
    if (raw.kind === EntryKind.tombstone) {
      this.redisMiss(key);
      return { state: 'miss', observed: buf };
    }
    if (raw.tags.length > 0 && this.invalidator) {
      return this.invalidator.judge({ key: rk, writtenAt: raw.writtenAt, tags: raw.tags }).then((verdict) => {
        if (verdict === 'deleted') return this.redisMiss(key);
        return this.accept(
          key,
          rk,
          buf,
          raw,
          verdict === 'stale' ? Math.min(raw.expiresAt, Date.now()) : raw.expiresAt,
          opts,
        );
      });
    }
    return this.accept(key, rk, buf, raw, raw.expiresAt, opts);
  }

  /** Decodes a judged value entry, keeps it in memory, and says whether it is fresh or only stale. */
  private accept(
    key: string,
    rk: string,
    buf: Buffer,
    raw: RawEntry,
    expiresAt: number,
    opts: ResolvedEntryOptions,
  ): Found {
    const now = Date.now();
    let value: unknown;
    try {
      value = raw.isUndefined ? undefined : this.shared.serializer.decode(raw.payload);
    } catch (error) {
      // A value nobody can decode is a miss: the next write replaces it.
      this.failed('decode', key, error);
      return this.redisMiss(key);
    }
    const entry: MemoryEntry = {
      value,
      kind: raw.kind,
      writtenAt: raw.writtenAt,
      expiresAt,
      checkAt: Math.min(expiresAt, this.shared.memoryTtlMs > 0 ? now + this.shared.memoryTtlMs : expiresAt),
      staleUntil: expiresAt + opts.graceMs,
      ttlMs: raw.expiresAt - raw.writtenAt,
      tags: raw.tags,
      version: raw.version,
      size: buf.length,
    };
    const fresh = expiresAt > now;
    const memory = this.shared.memory;
    if (memory && (fresh || entry.staleUntil > now)) memory.set(rk, entry);
    if (!fresh) {
      this.counters.redisMisses++;
      return { state: 'stale', entry };
    }
    this.counters.redisHits++;
    if (listening('hit')) publish('hit', { namespace: this.name, key, tier: 'redis' });
    return { state: 'fresh', entry };
  }

  private redisMiss(key: string): Found {
    this.counters.redisMisses++;
    if (listening('miss')) publish('miss', { namespace: this.name, key, tier: 'redis' });
    return MISS;
  }

  // ---------------------------------------------------------------- internals: loading

  /** Single-flight: one load per key in this process; joiners share its result. */
  private load(key: string, rk: string, factory: Factory<T>, opts: ResolvedEntryOptions, force: boolean): Promise<T> {
    const flight = this.inflight.get(rk);
    if (flight) return flight.result as Promise<T>;
    let release!: () => void;
    const until = new Promise<void>((resolve) => {
      release = resolve;
    });
    const result = this.loadOnce(key, rk, factory, opts, force, release);
    const entry: Flight = { result };
    this.inflight.set(rk, entry);
    // The flight ends when the factory ends, even if callers were answered earlier (soft timeout).
    void until.then(() => {
      if (this.inflight.get(rk) === entry) this.inflight.delete(rk);
    });
    result.then(noop, noop);
    return result;
  }

  private refreshAhead(key: string, rk: string, factory: Factory<T>, opts: ResolvedEntryOptions): void {
    if (this.inflight.has(rk)) return;
    this.counters.refreshes++;
    this.load(key, rk, factory, opts, true).then(
      () => publish('refresh', { namespace: this.name, key, ok: true }),
      (error) => {
        this.failed('refresh', key, error);
        publish('refresh', { namespace: this.name, key, ok: false });
      },
    );
  }

  private async loadOnce(
    key: string,
    rk: string,
    factory: Factory<T>,
    opts: ResolvedEntryOptions,
    force: boolean,
    endFlight: () => void,
  ): Promise<T> {
    let background = false;
    let handle: LockHandle | null | undefined = null;
    try {
      const started = Date.now();
      const memory = this.shared.memory;
      if (memory) this.counters.memoryMisses++;
      let stale = memory?.peek(rk);
      if (stale && stale.staleUntil <= started) stale = undefined;
      // A recent failure already served this stale value: keep serving it until the backoff ends
      // (a newer write anywhere would have removed it from memory through the bus).
      if (!force && stale && stale.kind === EntryKind.value && stale.retryAt !== undefined && stale.retryAt > started) {
        return this.staleServed(key, stale, 'backoff') as T;
      }
      let observed: Buffer | undefined;
      let redisDown = false;
      const redis = this.shared.redis;
      if (redis) {
        const found = await this.readRedis(key, rk, opts);
        if (found.state === 'fresh' && !force) {
          this.maybeRefresh(key, rk, factory, opts, found.entry as MemoryEntry);
          return (await this.served(found.entry as MemoryEntry)) as T;
        }
        if (found.state === 'error') {
          redisDown = true;
          this.failed('get', key, found.error);
          if (opts.throwErrors) throw found.error;
        }
        if (found.entry) stale = found.entry;
        observed = found.observed;
      } else if (!force && stale && stale.checkAt > started) {
        return (await this.served(stale)) as T;
      }
      if (this.shared.lock && redis && !redisDown) {
        // Try the lock once; while another process holds it, poll Redis for its result (a GET every
        // few ms is far cheaper than waiting for lock hand-offs), retrying the lock in case it died.
        handle = await this.acquire(key, opts);
        const deadline = Date.now() + opts.lockWaitMs;
        let delay = 2;
        for (;;) {
          // Whoever held the lock may have loaded the value meanwhile: read it rather than load again.
          const again = await this.readRedis(key, rk, opts);
          if (again.state === 'fresh' && !force) return (await this.served(again.entry as MemoryEntry)) as T;
          if (again.entry) stale = again.entry;
          if (again.observed) observed = again.observed;
          // undefined: the lock service failed, and a failing lock must not delay loads.
          if (handle !== null || force || again.state === 'error' || Date.now() >= deadline) break;
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 1.5, 50);
          handle = await this.acquire(key, opts);
        }
      }
      const staleValue = stale && stale.kind === EntryKind.value ? stale : undefined;
      const call = new FactoryCall<T>(key, staleValue?.value as T | undefined);
      this.counters.factoryCalls++;
      const t0 = performance.now();
      const running = (async () => factory(call))();
      const waited = await waitWithTimeouts(running, staleValue ? opts.softMs : 0, opts.hardMs);
      const finish = (ok: boolean) => {
        if (listening('factory'))
          publish('factory', { namespace: this.name, key, durationMs: performance.now() - t0, ok });
      };
      if (waited.kind === 'value') {
        finish(true);
        await this.writeBack(key, rk, waited.value, call, opts, observed, started);
        return waited.value;
      }
      if (waited.kind === 'error') {
        finish(false);
        this.counters.factoryErrors++;
        if (opts.cacheErrorsMs > 0) {
          const e = waited.error as Error;
          await this.store(
            key,
            rk,
            { name: e?.name, message: e?.message },
            EntryKind.error,
            opts.cacheErrorsMs,
            [],
            0,
            opts,
            {
              observed,
              started,
            },
          ).catch(noop);
        }
        if (staleValue) {
          staleValue.retryAt = Date.now() + opts.backoffMs;
          if (memory && !memory.peek(rk)) memory.set(rk, staleValue);
          return this.staleServed(key, staleValue, 'factory-error') as T;
        }
        throw waited.error;
      }
      // Past a timeout: the factory keeps running and its result is still written when it ends.
      this.counters.timeouts++;
      if (listening('timeout')) publish('timeout', { namespace: this.name, key, kind: waited.kind });
      if (waited.kind === 'hard') call.controller.abort(new FactoryTimeoutError(`Factory of '${key}' timed out`));
      background = true;
      const lockHeld = handle;
      handle = null;
      void running
        .then(
          async (value) => {
            finish(true);
            await this.writeBack(key, rk, value, call, opts, observed, started);
          },
          (error) => {
            finish(false);
            this.counters.factoryErrors++;
            this.failed('factory', key, error);
          },
        )
        .catch((error) => this.failed('set', key, error))
        .finally(() => {
          void lockHeld?.release().catch(noop);
          endFlight();
        });
      if (staleValue) return this.staleServed(key, staleValue, 'factory-timeout') as T;
      throw new FactoryTimeoutError(`Factory of '${key}' ran past its hard timeout of ${opts.hardMs} ms`, {
        context: { key, timeoutMs: opts.hardMs },
      });
    } finally {
      if (handle) void handle.release().catch(noop);
      if (!background) endFlight();
    }
  }

  private maybeRefresh(
    key: string,
    rk: string,
    factory: Factory<T>,
    opts: ResolvedEntryOptions,
    entry: MemoryEntry,
  ): void {
    if (opts.refreshAhead > 0 && entry.expiresAt - Date.now() < entry.ttlMs * opts.refreshAhead) {
      // Out of this flight: the refresh starts once the current flight has ended.
      queueMicrotask(() => this.refreshAhead(key, rk, factory, opts));
    }
  }

  /** The stampede lock: a handle, `null` when another holds it, `undefined` when the lock service failed. */
  private async acquire(key: string, opts: ResolvedEntryOptions): Promise<LockHandle | null | undefined> {
    try {
      return await (this.shared.lock as DistributedLock).acquire(`patterns:${this.name}:${key}`, {
        ttlMs: Math.max(opts.lockTtlMs, opts.hardMs),
        waitMs: 0,
      });
    } catch (error) {
      // A failing lock service must not stop loads: we load without it.
      this.failed('lock', key, error);
      return undefined;
    }
  }

  private staleServed(key: string, entry: MemoryEntry, reason: string): unknown {
    this.counters.staleServed++;
    if (listening('stale')) publish('stale', { namespace: this.name, key, reason });
    return this.shared.clone ? structuredClone(entry.value) : entry.value;
  }

  /** Writes a factory's result as its context decided, guarded against the stale-set race. */
  private async writeBack(
    key: string,
    rk: string,
    value: T,
    call: FactoryCall<T>,
    opts: ResolvedEntryOptions,
    observed: Buffer | undefined,
    started: number,
  ): Promise<void> {
    if (call.skipped) return;
    let ttlMs = call.ttlMs ?? opts.ttlMs;
    if (value === undefined) {
      if (opts.cacheUndefinedMs === 0) return;
      if (opts.cacheUndefinedMs > 0) ttlMs = opts.cacheUndefinedMs;
    }
    try {
      await this.store(key, rk, value, EntryKind.value, ttlMs, call.tags ?? opts.tags, call.version, opts, {
        observed,
        started,
      });
    } catch (error) {
      // The value was loaded: the caller gets it even if it could not be cached (already published).
      if (opts.throwErrors) throw error;
    }
  }

  // ---------------------------------------------------------------- internals: writes

  /**
   * Writes an entry: Redis first (guarded by the write-back script when
   * `guard` is given or the write is versioned), then the broadcast that makes
   * other instances drop their copies, then memory. Resolves the bytes written,
   * `false` when Redis refused, or `null` when there is no Redis tier or it failed.
   */
  private async store(
    key: string,
    rk: string,
    value: unknown,
    kind: number,
    ttlMs: number,
    tags: readonly string[],
    version: number,
    opts: ResolvedEntryOptions,
    guard: { observed: Buffer | undefined; started: number } | null,
    awaitBroadcast = false,
  ): Promise<Buffer | false | null> {
    const now = Date.now();
    const ttl = opts.jitter > 0 ? Math.max(1, Math.round(ttlMs * (1 + (Math.random() * 2 - 1) * opts.jitter))) : ttlMs;
    const expiresAt = now + ttl;
    const payload = value === undefined ? undefined : this.shared.serializer.encode(value);
    const redis = this.shared.redis;
    let bytes: Buffer | null = null;
    let size = payload?.length ?? 16;
    if (redis) {
      bytes = encodeEntry(kind, payload, now, expiresAt, version, tags);
      size = bytes.length;
      const px = ttl + opts.graceMs;
      try {
        if (guard === null && version === 0) {
          const entryBytes = bytes;
          await redis.run('set', (c) => c.set(rk, entryBytes, 'PX', px));
        } else {
          const reply = await this.guardedSet(rk, bytes, px, guard, version, tags);
          if (reply !== 1) {
            this.counters.refused++;
            if (listening('refused'))
              publish('refused', { namespace: this.name, key, reason: reply === -1 ? 'older-version' : 'invalidated' });
            return false;
          }
        }
        if (tags.length > 0 && this.invalidator?.tagMode === 'eager') {
          const inv = this.invalidator;
          await redis.run('tags', async (c) => {
            const pipeline = c.pipeline();
            inv.recordTags(pipeline, rk, tags, px);
            await pipeline.exec();
          });
        }
      } catch (error) {
        this.failed('set', key, error);
        if (opts.throwErrors) throw error;
        bytes = null;
      }
    }
    this.counters.sets++;
    if (listening('set')) publish('set', { namespace: this.name, key });
    // Broadcast first: it also reaches this process's memory, which then takes the new entry.
    await this.broadcast('dk', [rk], awaitBroadcast);
    const memory = this.shared.memory;
    if (memory) {
      memory.set(rk, {
        value: this.shared.clone && kind === EntryKind.value ? structuredClone(value) : value,
        kind,
        writtenAt: now,
        expiresAt,
        checkAt: this.shared.memoryTtlMs > 0 ? Math.min(expiresAt, now + this.shared.memoryTtlMs) : expiresAt,
        staleUntil: expiresAt + opts.graceMs,
        ttlMs: ttl,
        tags,
        version,
        size,
      });
    }
    return bytes;
  }

  private guardedSet(
    rk: string,
    bytes: Buffer,
    px: number,
    guard: { observed: Buffer | undefined; started: number } | null,
    version: number,
    tags: readonly string[],
  ): Promise<unknown> {
    const redis = this.shared.redis as StrataRedis;
    const keys = [rk];
    // Markers live in other slots: on Cluster only the entry's own tombstone and version guard it.
    if (!this.shared.cluster && this.clearMarker) {
      keys.push(this.clearMarker);
      if (guard && this.invalidator) for (const tag of tags) keys.push(...this.invalidator.tagTimeKeys(tag));
    }
    const observed = guard === null ? '*' : (guard.observed ?? '');
    return redis.runScript(this.guardedScript(keys.length), keys, [bytes, px, observed, guard?.started ?? 0, version]);
  }

  /** The write-back script declared for `n` keys (the entry, then markers). */
  private guardedScript(n: number): LuaScript {
    if (n === luaScripts.guardedSet.numberOfKeys) return luaScripts.guardedSet;
    let script = this.scripts.get(n);
    if (!script) {
      script = defineScript(luaScripts.guardedSet.name, luaScripts.guardedSet.source, n);
      this.scripts.set(n, script);
    }
    return script;
  }

  private async setStrict(
    key: string,
    rk: string,
    value: T,
    opts: ResolvedEntryOptions,
    version: number,
  ): Promise<boolean> {
    const lock = this.shared.lock;
    if (!lock || !this.shared.redis) throw new ConfigError("consistency: 'strict' needs a Redis tier and a lock");
    const handle = await lock.acquire(`patterns:${this.name}:${key}`, {
      ttlMs: opts.lockTtlMs,
      waitMs: opts.lockWaitMs,
    });
    if (!handle)
      throw new ConsistencyError(`Could not take the write lock of '${key}' within ${opts.lockWaitMs} ms`, {
        context: { key },
      });
    try {
      const written = await this.store(
        key,
        rk,
        value,
        EntryKind.value,
        opts.ttlMs,
        opts.tags,
        version,
        { ...opts, throwErrors: true },
        null,
        true,
      );
      if (written === false) return false;
      const redis = this.shared.redis;
      const stored = await redis.run('get', (c) => c.getBuffer(rk));
      if (!written || !stored?.equals(written)) {
        this.shared.memory?.delete(rk);
        throw new ConsistencyError(`Another write to '${key}' won while writing under the lock`, { context: { key } });
      }
      return true;
    } finally {
      await handle.release().catch(noop);
    }
  }

  /** Eventual consistency: reads the write back later; if another write won, drops the local copy. */
  private async validate(key: string, rk: string, written: Buffer): Promise<void> {
    const redis = this.shared.redis;
    if (!redis) return;
    await new Promise((resolve) => setImmediate(resolve));
    try {
      const stored = await redis.run('get', (c) => c.getBuffer(rk));
      if (!stored?.equals(written)) this.shared.memory?.delete(rk);
    } catch (error) {
      this.failed('validate', key, error);
      this.shared.memory?.delete(rk);
    }
  }

  /** Tells every instance (and, through local dispatch, this one's memory). */
  private async broadcast(
    op: 'dk' | 'ek' | 'dp' | 'dt' | 'et' | 'c',
    items: string[] | null,
    wait: boolean,
  ): Promise<void> {
    const bus = this.shared.bus;
    if (!bus) return;
    const sent = bus.publish(op, this.name, items);
    if (wait) await sent;
  }

  private failed(operation: string, key: string, error: unknown): void {
    this.counters.errors++;
    if (listening('error')) publish('error', { namespace: this.name, operation, key, error });
  }
}

function expireEntry(entry: MemoryEntry, at: number): void {
  if (entry.expiresAt > at) entry.expiresAt = at;
  if (entry.checkAt > at) entry.checkAt = at;
}

function cachedError(value: unknown): CachedFactoryError {
  const v = (value ?? {}) as { name?: string; message?: string };
  return new CachedFactoryError(`Cached factory failure: ${v.name ?? 'Error'}: ${v.message ?? ''}`, {
    context: { name: v.name, message: v.message },
  });
}

function checkVersion(version: number | undefined): number {
  if (version === undefined) return 0;
  if (!Number.isFinite(version) || version <= 0)
    throw new ConfigError(`version must be a finite number > 0; got ${version}`);
  return version;
}

function pick<T>(result: ManyResult<T>, key: string, index: number): T | undefined {
  if (result instanceof Map) return result.get(key);
  if (Array.isArray(result)) return result[index] as T | undefined;
  return Object.hasOwn(result, key) ? (result as Record<string, T>)[key] : undefined;
}

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
  const memoryOptions = options.memory === false ? undefined : (options.memory ?? {});
  const maxEntries = memoryOptions?.maxEntries ?? 10_000;
  if (memoryOptions && !(Number.isInteger(maxEntries) && maxEntries > 0))
    throw new ConfigError(`memory.maxEntries must be a positive integer; got ${maxEntries}`);
  const maxBytes = memoryOptions?.maxBytes;
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0))
    throw new ConfigError(`memory.maxBytes must be a positive integer; got ${maxBytes}`);
  const redis = options.redisTier === false ? undefined : options.redis;
  if (!redis && !memoryOptions)
    throw new ConfigError('A cache needs at least one tier: pass redis, or keep the memory tier');
  if (options.serializer !== undefined && typeof options.serializer?.encode !== 'function')
    throw new ConfigError('serializer must be a Serializer from @stratacache/serializers');
  if (options.lock !== undefined && typeof options.lock?.acquire !== 'function')
    throw new ConfigError('lock must implement DistributedLock (acquire(name, { ttlMs, waitMs }))');
  if (options.loader !== undefined && typeof options.loader !== 'function')
    throw new ConfigError('loader must be a function');
  const namespace = options.namespace ?? 'cache';
  const shared: Shared = {
    redis,
    memory: memoryOptions ? new MemoryTier(maxEntries, maxBytes) : undefined,
    memoryTtlMs: memoryOptions?.ttl === undefined ? 0 : toMs(memoryOptions.ttl, 'memory.ttl'),
    clone: memoryOptions?.clone ?? false,
    serializer: options.serializer ?? json(),
    bus: options.bus,
    lock: options.lock,
    tags: options.tags ?? (redis?.mode === 'cluster' ? 'lazy' : undefined),
    raceWindowMs: toMs(options.raceWindow ?? '1m', 'raceWindow'),
    loader: options.loader,
    cluster: redis?.mode === 'cluster',
  };
  if (!/^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})*$/.test(namespace))
    throw new ConfigError(
      `namespace must be dot-separated names of letters, digits, _ or -; got ${JSON.stringify(namespace)}`,
    );
  return new Cache<T>(shared, namespace, resolveEntryOptions(options.defaults));
}
