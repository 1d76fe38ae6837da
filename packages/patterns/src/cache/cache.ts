/**
 * The Cache: a memory tier (L1) over a Redis tier (L2), kept coherent across
 * instances by the invalidation bus, with getOrSet (single-flight in process,
 * a distributed lock across processes), grace / fail-safe, soft and hard
 * factory timeouts, refresh-ahead, negative caching and versioned writes.
 *
 * This class holds the public verbs only; the work is in the paths:
 * `read-path.ts` (memory, one GET, judgement), `load-path.ts` (getOrSet's
 * single-flight, lock, factory, grace), `write-path.ts` (set, the guarded
 * write-back, tombstones, expire, broadcast). Reads never wait for anything but the
 * tier that answers: a memory hit is a map lookup, a Redis hit is one GET.
 */
import { ConfigError, encodeKeyPart, KeyError, type StrataRedis } from '@stratacache/core-client';
import { createInvalidator } from '@stratacache/invalidation';
import type { CacheStats } from '../diagnostics.js';
import { EntryKind } from '../entry.js';
import type { Factory } from '../factory.js';
import { luaScripts } from '../lua.generated.js';
import type { MemoryEntry } from '../memory-tier.js';
import { type EntryOptions, type ResolvedEntryOptions, resolveEntryOptions } from '../options.js';
import { registerBusTarget } from './bus-target.js';
import { setStrict, validateLater } from './consistency.js';
import { load, refreshIfDue } from './load-path.js';
import { getOrSetMany, type ManyResult } from './many.js';
import {
  fallback,
  getFromRedis,
  isOutage,
  lookupMany,
  memoryFresh,
  memoryHit,
  readRedis,
  redisKey,
} from './read-path.js';
import { type CacheContext, KEY_SLOTS, type NamespaceState } from './state.js';
import { Telemetry } from './telemetry.js';
import { broadcast, deleteKeys, expireKey, store } from './write-path.js';

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

/** What `write` (write-through) resolves. */
export interface WriteResult {
  /** The cache holds the new value. */
  cached: boolean;
  /** Why it does not: the cache write failed after the source succeeded (the key was invalidated). */
  error?: unknown;
}

export type { ManyResult };

const RESERVED_CHILDREN = new Set(['inv', 'meta']);
const noop = () => {};

/** The cache of one namespace. Create it with {@link createCache}; `namespace()` gives children. */
export class Cache<T = unknown> {
  /** The full namespace (`cache`, `cache.users`). */
  readonly name: string;
  private readonly ns: NamespaceState;
  private readonly children = new Map<string, Cache<T>>();
  private readonly unregister: (() => void) | undefined;

  /** True for the cache `createCache` returned (it owns what its children share). */
  private readonly root: boolean;

  /** @internal Use {@link createCache}. */
  constructor(ctx: CacheContext, namespace: string, defaults: ResolvedEntryOptions, root = true) {
    this.name = namespace;
    this.root = root;
    const redis = ctx.redis;
    const keys = redis?.keys(namespace);
    const nsHead = keys ? `${keys.prefix}:${namespace}:` : `memory:${namespace}:`;
    this.ns = {
      ctx,
      name: namespace,
      defaults,
      nsHead,
      head: `${nsHead}e:`,
      maxKeyLength: keys?.maxLength ?? 1024,
      invalidator: redis
        ? createInvalidator(redis, {
            namespace,
            ...(ctx.bus ? { bus: ctx.bus } : {}),
            ...(ctx.tags ? { tags: ctx.tags } : {}),
          })
        : undefined,
      inflight: new Map(),
      telemetry: new Telemetry(namespace),
      recentKeys: new Array<string>(2 * KEY_SLOTS).fill(''),
    };
    this.unregister = registerBusTarget(this.ns);
    // Evictions are counted on the root cache: the memory tier is shared by its namespaces.
    if (ctx.memory && !ctx.memory.hasEvictionListener) {
      const telemetry = this.ns.telemetry;
      ctx.memory.onEvict(() => telemetry.evicted(1));
    }
  }

  // ---------------------------------------------------------------- reads

  /**
   * The fresh value of `key`, or `undefined`. With a `loader` configured
   * (read-through), a miss loads it as `getOrSet` would.
   */
  get<V extends T = T>(key: string, options?: EntryOptions): Promise<V | undefined> {
    const rk = redisKey(this.ns, key);
    const entry = memoryFresh(this.ns, rk);
    if (entry !== undefined) return memoryHit(this.ns, key, entry) as Promise<V | undefined>;
    const loader = this.ns.ctx.loader;
    if (loader) return this.getOrSet<V>(key, () => loader(key) as V, options);
    const opts = options === undefined ? this.ns.defaults : resolveEntryOptions(options, this.ns.defaults);
    return getFromRedis(this.ns, key, rk, opts) as Promise<V | undefined>;
  }

  /** True when `key` has a fresh value. */
  async has(key: string): Promise<boolean> {
    const rk = redisKey(this.ns, key);
    if (memoryFresh(this.ns, rk) !== undefined) return true;
    if (!this.ns.ctx.redis) return false;
    const found = await readRedis(this.ns, key, rk, this.ns.defaults, true);
    if (found.state === 'error') return fallback(this.ns, key, rk, found.error, this.ns.defaults, 'has') !== undefined;
    return found.state === 'fresh';
  }

  /** Fresh values of `keys` (`undefined` for misses), memory first, then one batched Redis read. */
  async getMany<V extends T = T>(keys: readonly string[]): Promise<(V | undefined)[]> {
    const { values, found, rks } = await lookupMany(this.ns, keys, this.ns.defaults);
    for (let i = 0; i < keys.length; i++) {
      const f = found[i];
      if (f && f.state === 'error')
        values[i] = fallback(this.ns, keys[i] as string, rks[i] as string, f.error, this.ns.defaults, 'getMany');
    }
    return values as (V | undefined)[];
  }

  /**
   * The value of `key`; on a miss, `factory` loads it, once per key in this
   * process (single-flight) and, with a `lock`, once across processes. The
   * result is written back only if nothing rewrote or invalidated the key
   * since the factory began (see the README, the stale-set race).
   */
  getOrSet<V extends T = T>(key: string, factory: Factory<V>, options?: EntryOptions): Promise<V> {
    const rk = redisKey(this.ns, key);
    const opts = options === undefined ? this.ns.defaults : resolveEntryOptions(options, this.ns.defaults);
    const entry = memoryFresh(this.ns, rk);
    if (entry !== undefined) {
      refreshIfDue(this.ns, key, rk, factory, opts, entry);
      return memoryHit(this.ns, key, entry) as Promise<V>;
    }
    return load(this.ns, key, rk, factory, opts, false);
  }

  /**
   * The values of `keys`; the misses are loaded by one `loader` call that
   * receives only the missing keys. Keys another call is already loading are
   * awaited, not loaded twice.
   */
  getOrSetMany<V extends T = T>(
    keys: readonly string[],
    loader: (missing: string[]) => Promise<ManyResult<V>> | ManyResult<V>,
    options?: EntryOptions,
  ): Promise<V[]> {
    return getOrSetMany(this.ns, keys, loader, resolveEntryOptions(options, this.ns.defaults));
  }

  // ---------------------------------------------------------------- writes

  /**
   * Writes `value` to both tiers and tells other instances to drop their
   * copies. Resolves `false` when a versioned write was refused (a newer
   * version is stored). A value the serializer cannot encode rejects.
   */
  async set<V extends T = T>(key: string, value: V, options?: SetOptions): Promise<boolean> {
    const rk = redisKey(this.ns, key);
    const opts = resolveEntryOptions(options, this.ns.defaults);
    const version = checkVersion(options?.version);
    if (opts.consistency === 'strict') return setStrict(this.ns, key, rk, value, opts, version);
    const written = await store(this.ns, {
      key,
      rk,
      value,
      kind: EntryKind.value,
      ttlMs: opts.ttlMs,
      tags: opts.tags,
      version,
      opts,
    });
    if (written.kind === 'written' && opts.consistency === 'eventual')
      void validateLater(this.ns, key, rk, written.bytes);
    return written.kind !== 'refused';
  }

  /** Writes several entries; their Redis writes are in flight together (one round trip), each broadcast as a `set`. */
  async setMany<V extends T = T>(items: readonly SetManyItem<V>[]): Promise<boolean[]> {
    return Promise.all(items.map((item) => this.set(item.key, item.value, item)));
  }

  /**
   * Deletes `key` in both tiers and on every instance. In Redis a tombstone
   * replaces the value, so a load that read the source before this delete
   * cannot write its value back after it. Resolves whether a value existed.
   */
  async delete(key: string, options?: { throwErrors?: boolean }): Promise<boolean> {
    return (await this.deleteMany([key], options)) > 0;
  }

  /** Deletes `keys`; resolves how many held a value. */
  deleteMany(keys: readonly string[], options?: { throwErrors?: boolean }): Promise<number> {
    const rks = keys.map((k) => redisKey(this.ns, k));
    return deleteKeys(this.ns, keys, rks, options?.throwErrors ?? this.ns.defaults.throwErrors);
  }

  /**
   * Marks `key` stale now, keeping it for grace readers (fail-safe); without a
   * grace period it is deleted. A load that began before this cannot write its
   * value back as fresh. Resolves whether there was a value.
   */
  async expire(key: string, options?: EntryOptions): Promise<boolean> {
    const opts = resolveEntryOptions(options, this.ns.defaults);
    if (opts.graceMs <= 0) return this.delete(key, options);
    return expireKey(this.ns, key, redisKey(this.ns, key), opts);
  }

  /** Restarts the TTL of `key` (its `ttl`, or the default) without rewriting the value. Resolves whether it exists. */
  async touch(key: string, options?: EntryOptions): Promise<boolean> {
    const opts = resolveEntryOptions(options, this.ns.defaults);
    const rk = redisKey(this.ns, key);
    const { clock, memory, redis, memoryTtlMs } = this.ns.ctx;
    const now = clock.now();
    let changed = false;
    const local = memory?.peek(rk);
    if (local && local.staleUntil > now) {
      local.expiresAt = now + opts.ttlMs;
      local.checkAt = Math.min(local.expiresAt, now + (memoryTtlMs || opts.ttlMs));
      local.staleUntil = local.expiresAt + opts.graceMs;
      local.ttlMs = opts.ttlMs;
      changed = true;
    }
    if (redis) {
      try {
        const reply = await redis.runScript(
          luaScripts.retime,
          [rk],
          [now + opts.ttlMs, opts.ttlMs + opts.graceMs, '0', '0', '', 0],
        );
        changed = reply === 1;
      } catch (error) {
        this.ns.telemetry.failed('touch', key, error);
        if (opts.throwErrors || !isOutage(error)) throw error;
      }
    }
    return changed;
  }

  /**
   * Empties this namespace (not its children) in Redis and in every
   * instance's memory tier. Loads in flight cannot write back what they read before.
   */
  async clear(): Promise<void> {
    const { invalidator } = this.ns;
    if (invalidator) await invalidator.clear();
    else await broadcast(this.ns, 'c', null, false);
    // Without a bus (or memory-only), nobody dispatched the clear to this process.
    if (!this.ns.ctx.bus) this.forgetLocally();
  }

  /** Deletes every entry holding one of `tags` (they become misses). Loads in flight cannot write them back. */
  async deleteByTag(tags: readonly string[]): Promise<void> {
    if (this.ns.invalidator) await this.ns.invalidator.deleteByTag(tags);
    else await broadcast(this.ns, 'dt', [...tags], false);
    if (!this.ns.ctx.bus)
      this.forgetLocally((key, e) => key.startsWith(this.ns.nsHead) && e.tags.some((t) => tags.includes(t)));
  }

  /** Marks every entry holding one of `tags` stale (kept for grace readers). */
  async expireByTag(tags: readonly string[]): Promise<void> {
    if (this.ns.invalidator) await this.ns.invalidator.expireByTag(tags);
    else await broadcast(this.ns, 'et', [...tags], false);
    if (!this.ns.ctx.bus) {
      this.ns.ctx.coherence.wideInvalidation();
      this.ns.ctx.memory?.expireWhere(
        this.ns.ctx.clock.now(),
        (key, e) => key.startsWith(this.ns.nsHead) && e.tags.some((t) => tags.includes(t)),
      );
    }
  }

  /**
   * Deletes every key starting with `prefix` (SCAN + UNLINK in Redis),
   * everywhere; loads in flight in this namespace cannot write back what they
   * read before. Resolves how many went in Redis.
   */
  async deleteByPrefix(prefix: string): Promise<number> {
    if (typeof prefix !== 'string') throw new KeyError('deleteByPrefix takes a string prefix');
    redisKey(this.ns, `${prefix}x`); // the same checks as a key (well-formed, length)
    const relative = `e:${encodeKeyPart(prefix)}`;
    let removed = 0;
    if (this.ns.invalidator) removed = await this.ns.invalidator.deleteByPrefix(relative);
    else await broadcast(this.ns, 'dp', [relative], false);
    if (!this.ns.ctx.bus) this.forgetLocally((key) => key.startsWith(this.ns.nsHead + relative));
    return removed;
  }

  /**
   * Write-through: writes `value` to the source with `writer` first; only if
   * that succeeds, to the cache. If the cache write then fails, the key is
   * invalidated (so nobody reads the old value) and the error is returned and
   * published; the source write is never undone.
   */
  async write<V extends T = T>(
    key: string,
    value: V,
    writer: (value: V) => Promise<unknown> | unknown,
    options?: SetOptions,
  ): Promise<WriteResult> {
    redisKey(this.ns, key); // a bad key fails before the source is written
    await writer(value);
    try {
      await this.set(key, value, { ...options, throwErrors: true });
      return { cached: true };
    } catch (error) {
      this.ns.telemetry.failed('write', key, error);
      await this.delete(key).catch(noop);
      return { cached: false, error };
    }
  }

  /** Without a bus: what a wide invalidation's message would do here (memory entries, loads in flight). */
  private forgetLocally(
    test: (key: string, entry: MemoryEntry) => boolean = (key) => key.startsWith(this.ns.nsHead),
  ): void {
    this.ns.ctx.coherence.wideInvalidation();
    this.ns.ctx.memory?.deleteWhere(test);
  }

  // ---------------------------------------------------------------- namespaces, stats

  /** A child namespace (`cache.users`): its own keys, `clear()` and tags; same tiers and options. */
  namespace<V extends T = T>(name: string): Cache<V> {
    if (RESERVED_CHILDREN.has(name)) throw new ConfigError(`Namespace name '${name}' is reserved`);
    let child = this.children.get(name);
    if (!child) {
      const full = `${this.name}.${name}`;
      const redis: StrataRedis | undefined = this.ns.ctx.redis;
      if (redis)
        redis.keys(full); // validates the name (KeyError)
      else if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
        throw new KeyError(`namespace must be 1-64 letters, digits, _ or -; got ${JSON.stringify(name)}`);
      child = new Cache<T>(this.ns.ctx, full, this.ns.defaults, false);
      this.children.set(name, child);
    }
    return child as unknown as Cache<V>;
  }

  /** Counters of this namespace since creation. */
  stats(): CacheStats & { memoryEntries: number; inflight: number } {
    return {
      ...this.ns.telemetry.counters,
      memoryEntries: this.ns.ctx.memory?.size ?? 0,
      inflight: this.ns.inflight.size,
    };
  }

  /** Stops following the bus (this namespace and its children) and, on the root, the stampede signal. Does not close Redis or the bus. */
  close(): void {
    this.unregister?.();
    this.ns.invalidator?.close();
    for (const child of this.children.values()) child.close();
    if (this.root) this.ns.ctx.landed?.close();
  }
}

function checkVersion(version: number | undefined): number {
  if (version === undefined) return 0;
  if (typeof version !== 'number' || !Number.isFinite(version) || version <= 0)
    throw new ConfigError(`version must be a finite number > 0; got ${version}`, { context: { option: 'version' } });
  return version;
}
