/**
 * The invalidation strategies over one cache namespace's keys: delete
 * (immediate), expire (stale but kept for grace readers), shorten TTL, by
 * key, prefix, tag or dependency, each followed by a broadcast on the bus.
 *
 * Tags come in two modes:
 * - eager: a write adds its key to each tag's sorted set (scored by the key's
 *   expiry) in the same pipeline (`recordTags`), dropping expired members in
 *   the same step; `deleteByTag` unlinks the live members and the set.
 * - lazy: nothing is written per entry; invalidating a tag records its time,
 *   and `judge` calls an entry deleted or stale when it was written before.
 * In both modes `expireByTag` records a time (readers may still serve the
 * entry as stale), while `deleteByTag` makes entries a miss: two verbs, two meanings.
 *
 * On Cluster a tag's set is one key in its own slot, its members anywhere:
 * `addTags` sends one command per tag (each to the master of that tag's set)
 * and `deleteByTag` unlinks each member on its own master. Nothing there is
 * atomic across slots (nor is a pipeline on one server): what keeps readers
 * right is the tag's invalidation time, written before the members are read.
 */

import {
  ConfigError,
  check,
  type Duration,
  escapeGlob,
  type KeyBuilder,
  type StrataRedis,
} from '@stratacache/core-client';
import type { ChainableCommander } from 'ioredis';
import type { InvalidationBus } from './bus.js';
import { diagnostics } from './diagnostics.js';
import type { InvalidationTarget } from './events.js';
import {
  type InvalidatorOptions,
  type ResolvedInvalidatorOptions,
  resolveInvalidatorOptions,
  type TagMode,
} from './invalidator-options.js';
import { type EntryStamp, InvalidationTimes, type Verdict } from './times.js';

export type { InvalidatorOptions, TagMode } from './invalidator-options.js';
export type { EntryStamp, Verdict } from './times.js';

/**
 * What `invalidate()` returns: `keys` and `dependents` count keys affected
 * (deleted, expired or shortened), `prefixes` and `patterns` count keys
 * deleted, `tags` counts tags invalidated.
 */
export interface InvalidationCounts {
  keys: number;
  prefixes: number;
  patterns: number;
  tags: number;
  dependents: number;
}

/** The strategies of `invalidate()`. */
export type InvalidationStrategy = 'delete' | 'expire' | 'ttl';

/** The invalidator of one namespace. */
export class Invalidator {
  readonly keys: KeyBuilder;
  readonly namespace: string;
  readonly tagMode: TagMode;
  /** The resolved options (frozen). */
  readonly options: ResolvedInvalidatorOptions;
  private readonly bus: InvalidationBus | undefined;
  private readonly markerTtlMs: number;
  /** Bookkeeping keys live in a child namespace, out of reach of prefix and pattern deletes. */
  private readonly meta: KeyBuilder;
  private readonly times: InvalidationTimes;
  private unregister: (() => void) | undefined;
  private unregisterTarget: (() => void) | undefined;

  private readonly redis: StrataRedis;

  constructor(redis: StrataRedis, options: InvalidatorOptions) {
    this.redis = check.strataRedis(redis, 'redis');
    this.options = resolveInvalidatorOptions(options);
    this.namespace = this.options.namespace;
    this.keys = redis.keys(this.namespace);
    this.bus = this.options.bus;
    this.tagMode = this.options.tags;
    this.markerTtlMs = this.options.markerTtlMs;
    this.meta = this.keys.child('inv');
    this.times = new InvalidationTimes(redis, this.meta, this.options.tagCacheTtlMs);
    // Keep the local copies of tag and key times current from other instances.
    this.unregister = this.bus?.onInvalidation((event) => {
      if (event.local || (event.namespace !== this.namespace && event.namespace !== '*')) return;
      const { times } = this;
      const map =
        event.op === 'dt'
          ? times.tagDeleted
          : event.op === 'et'
            ? times.tagExpired
            : event.op === 'ek'
              ? times.keyExpired
              : undefined;
      if (map) times.learn(map, event.items, event.at);
      if (event.op === 'c') times.forget();
    });
    // After a gap (resubscribe, lost messages) the cached times cannot be trusted: read them again.
    // Only then: the other operations are followed above, and a target without a handler for an
    // operation would be cleared by every message of it.
    const followed = () => {};
    this.unregisterTarget = this.bus?.register({
      namespace: this.namespace,
      deleteLocal: followed,
      expireLocal: followed,
      deleteLocalByPrefix: followed,
      deleteLocalByTags: followed,
      expireLocalByTags: followed,
      clearLocal: () => this.times.forget(),
    });
  }

  /** The Redis key of `tag`'s member set (eager mode). */
  tagSetKey(tag: string): string {
    return this.meta.key('tag', tag);
  }

  /**
   * The keys holding `tag`'s last invalidation times (ms since the epoch, as
   * strings): deleted, then expired. A writer's Lua script reads them to refuse
   * a write-back of a value loaded before the tag was invalidated.
   */
  tagTimeKeys(tag: string): [deleted: string, expired: string] {
    return [this.times.tagTimeKey(tag, 'deleted'), this.times.tagTimeKey(tag, 'expired')];
  }

  /**
   * The key holding the last time this whole namespace, or a prefix or
   * pattern in it, was invalidated (ms on the Redis clock). Written before
   * the keys are scanned, so a cache write-back that began earlier sees it
   * or is scanned and unlinked.
   */
  namespaceTimeKey(): string {
    return this.meta.key('nstime', 'all');
  }

  private depsKey(parent: string): string {
    return this.meta.key('deps', parent);
  }

  /**
   * Records `tags` of `key` in the same pipeline as its write (eager mode;
   * a no-op in lazy mode, where entries carry their own tags). Standalone and
   * Sentinel only: on Cluster a pipeline cannot mix slots, and this throws a
   * `ConfigError` at the call; use {@link addTags}, which works everywhere.
   */
  recordTags(pipeline: ChainableCommander, key: string, tags: readonly string[], ttlMs?: number): void {
    if (this.tagMode !== 'eager' || tags.length === 0) return;
    if (this.redis.mode === 'cluster') {
      throw new ConfigError(
        'recordTags() adds tag-set writes to one pipeline, and a Redis Cluster pipeline cannot span the slots of a key and its tag sets: call addTags(key, tags, ttlMs) after the write instead (one command per tag, each to its own master).',
        { context: { option: 'recordTags' } },
      );
    }
    for (const tag of tags) {
      // One script per tag: add the member scored by its expiry, drop expired members, and let the
      // set live exactly as long as its longest-lived member (forever if one has no TTL).
      pipeline.eval(TAG_ADD, 1, this.tagSetKey(tag), key, ttlMs === undefined ? 'inf' : String(ttlMs));
    }
  }

  /**
   * Records `tags` of `key`, written with a TTL of `ttlMs` (none: no expiry):
   * eager mode only (a no-op in lazy mode). One command per tag, all in
   * flight at once: on Cluster each goes to the master of that tag's set.
   * Call it right after the entry's write.
   */
  async addTags(key: string, tags: readonly string[], ttlMs?: number): Promise<void> {
    if (this.tagMode !== 'eager' || tags.length === 0) return;
    const ttl = ttlMs === undefined ? 'inf' : String(ttlMs);
    await this.redis.run('tags', (c) =>
      Promise.all(tags.map((tag) => c.eval(TAG_ADD, 1, this.tagSetKey(tag), key, ttl))),
    );
  }

  /**
   * Judges an entry read from Redis: `deleted` (treat as a miss), `stale`
   * (serve only as a grace / fail-safe value) or `fresh`.
   */
  judge(entry: EntryStamp): Promise<Verdict> {
    return this.times.judge(entry);
  }

  /**
   * {@link judge} without a round trip: the verdict when every time it needs
   * was read within `tagCacheTtl` (the bus keeps them current meanwhile),
   * else `undefined` (call `judge`). A cache's hot hit path judges
   * synchronously this way, without building marker keys or awaiting.
   */
  judgeCached(entry: EntryStamp): Verdict | undefined {
    return this.times.judgeCached(entry);
  }

  /** Deletes `keys` in Redis, then tells every instance. Resolves how many existed. */
  async deleteKeys(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    // One command per key, all in flight at once: one round trip, and no CROSSSLOT on Cluster.
    // A deleted key's own dependency set goes with it.
    const removed = await this.redis.run('unlink', async (c) => {
      const counts = await Promise.all(keys.map((key) => c.unlink(key)));
      await Promise.all(keys.map((key) => c.unlink(this.depsKey(key))));
      return counts.reduce((a, b) => a + b, 0);
    });
    await this.bus?.publish('dk', this.namespace, [...keys]);
    return this.done('delete', 'key', removed);
  }

  /** Marks `keys` stale from now (readers may serve them within grace), and tells every instance. */
  async expireKeys(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const now = await this.markerTime();
    await this.redis.run('set', async (c) => {
      await Promise.all(keys.map((key) => c.set(this.times.keyTimeKey(key), String(now), 'PX', this.markerTtlMs)));
    });
    this.times.learn(this.times.keyExpired, keys, now);
    await this.bus?.publish('ek', this.namespace, [...keys], now);
    return this.done('expire', 'key', keys.length);
  }

  /** Shortens the TTL of `keys` to at most `ttl` (never lengthens it), and tells every instance. */
  async shortenTtl(keys: readonly string[], ttl: Duration): Promise<number> {
    const ms = check.positiveDuration(ttl, 'ttl');
    if (keys.length === 0) return 0;
    let changed = 0;
    await this.redis.run('pexpire', async (c) => {
      changed = (await Promise.all(keys.map((key) => c.pexpire(key, ms, 'LT')))).reduce((a, b) => a + b, 0);
    });
    // Local tiers drop them and read again: Redis still has the value until its new TTL.
    await this.bus?.publish('dk', this.namespace, [...keys]);
    return this.done('ttl', 'key', changed);
  }

  /** Deletes every key of this namespace starting with `prefix` (SCAN + UNLINK; `prefix` is escaped). */
  async deleteByPrefix(prefix: string, options: { dryRun?: boolean } = {}): Promise<number> {
    const pattern = `${escapeGlob(`${this.keys.prefix}:${this.namespace}:${prefix}`)}*`;
    const at = options.dryRun ? 0 : await this.markNamespace();
    const removed = await this.redis.unlinkMatching(pattern, { dryRun: options.dryRun });
    if (!options.dryRun) await this.bus?.publish('dp', this.namespace, [prefix], at);
    return options.dryRun ? removed : this.done('delete', 'prefix', removed);
  }

  /**
   * Deletes every key of this namespace matching `glob` (a pattern from
   * configuration, such as `data:user:*`; the namespace part is escaped, the
   * glob is used as written). Local tiers drop everything under the glob's
   * literal start, a superset of what matched.
   */
  async deleteByPattern(glob: string, options: { dryRun?: boolean } = {}): Promise<number> {
    const head = `${this.keys.prefix}:${this.namespace}:`;
    const at = options.dryRun ? 0 : await this.markNamespace();
    const removed = await this.redis.unlinkMatching(`${escapeGlob(head)}${glob}`, { dryRun: options.dryRun });
    if (!options.dryRun) {
      const literal = /^[^*?[\\]*/.exec(glob)?.[0] ?? '';
      await this.bus?.publish('dp', this.namespace, [literal], at);
    }
    return options.dryRun ? removed : this.done('delete', 'pattern', removed);
  }

  /**
   * Removes from eager tag sets the members whose keys no longer exist
   * (expired or evicted), and tag sets left empty. Run it periodically; it
   * SCANs the namespace's tag sets and checks members in batches.
   */
  async collectTagGarbage(): Promise<number> {
    let removed = 0;
    const now = Date.now();
    for await (const sets of this.redis.scan(this.meta.under('tag'), { type: 'zset' })) {
      for (const set of sets) {
        // Score-based, so it never races a writer: a re-written key carries its new expiry.
        removed += await this.redis.run('zremrangebyscore', (c) => c.zremrangebyscore(set, '-inf', now));
      }
    }
    return removed;
  }

  /** Deletes every entry of `tags`: they become misses, not stale values. Resolves how many keys went. */
  async deleteByTag(tags: readonly string[]): Promise<number> {
    if (tags.length === 0) return 0;
    // The time first: a lazy reader judges by it, and a write-back racing this delete is refused by it
    // or lands before the members are read below (and goes with them).
    const at = await this.recordTagTimes(tags, 'deleted');
    let removed = 0;
    if (this.tagMode === 'eager') {
      for (const tag of tags) {
        const set = this.tagSetKey(tag);
        const members = await this.redis.run('zrange', (c) => c.zrangebyscore(set, '-inf', '+inf'));
        if (members.length > 0) {
          // One UNLINK per member, all in flight: on Cluster each goes to the master of its slot.
          removed += await this.redis.run('unlink', async (c) =>
            (await Promise.all(members.map((key) => c.unlink(key)))).reduce((n, r) => n + r, 0),
          );
        }
        await this.redis.run('unlink', (c) => c.unlink(set));
      }
    }
    await this.bus?.publish('dt', this.namespace, [...tags], at);
    this.done('delete', 'tag', tags.length);
    return removed;
  }

  /** Marks every entry of `tags` stale from now (kept for grace readers); nothing is deleted. */
  async expireByTag(tags: readonly string[]): Promise<number> {
    if (tags.length === 0) return 0;
    const at = await this.recordTagTimes(tags, 'expired');
    await this.bus?.publish('et', this.namespace, [...tags], at);
    return this.done('expire', 'tag', tags.length);
  }

  /** Records that `key` depends on `parents`: invalidating a parent invalidates `key`. */
  async dependOn(key: string, parents: readonly string[]): Promise<void> {
    await this.redis.run('sadd', async (c) => {
      await Promise.all(parents.map((parent) => c.sadd(this.depsKey(parent), key)));
      await Promise.all(parents.map((parent) => c.pexpire(this.depsKey(parent), this.markerTtlMs)));
    });
  }

  /** Every key that depends on `keys`, transitively; cycles end the walk (each key once). */
  async dependentsOf(keys: readonly string[]): Promise<string[]> {
    const seen = new Set(keys);
    const found: string[] = [];
    let frontier = [...keys];
    while (frontier.length > 0) {
      const next: string[] = [];
      // One level of the walk per round trip: every set of the frontier is read at once.
      const levels = await this.redis.run('smembers', (c) =>
        Promise.all(frontier.map((key) => c.smembers(this.depsKey(key)))),
      );
      for (const children of levels) {
        for (const child of children) {
          if (seen.has(child)) continue;
          seen.add(child);
          found.push(child);
          next.push(child);
        }
      }
      frontier = next;
    }
    return found;
  }

  /**
   * Invalidates keys, prefixes and tags with one strategy, and optionally
   * everything that depends on the keys; returns counts per kind.
   */
  async invalidate(request: {
    keys?: readonly string[];
    prefixes?: readonly string[];
    /** Globs inside the namespace (see `deleteByPattern`); always deleted. */
    patterns?: readonly string[];
    tags?: readonly string[];
    dependents?: boolean;
    strategy?: InvalidationStrategy;
    ttl?: Duration;
  }): Promise<InvalidationCounts> {
    const strategy = check.oneOf(request.strategy ?? 'delete', 'strategy', ['delete', 'expire', 'ttl'] as const);
    if (request.ttl !== undefined) check.positiveDuration(request.ttl, 'ttl');
    const keys = request.keys ?? [];
    const dependents = request.dependents ? await this.dependentsOf(keys) : [];
    const counts: InvalidationCounts = { keys: 0, prefixes: 0, patterns: 0, tags: 0, dependents: 0 };
    const apply = (list: readonly string[]) =>
      strategy === 'delete'
        ? this.deleteKeys(list)
        : strategy === 'expire'
          ? this.expireKeys(list)
          : this.shortenTtl(list, request.ttl ?? '1s');
    counts.keys = await apply(keys);
    counts.dependents = await apply(dependents);
    for (const prefix of request.prefixes ?? []) counts.prefixes += await this.deleteByPrefix(prefix);
    for (const pattern of request.patterns ?? []) counts.patterns += await this.deleteByPattern(pattern);
    if (request.tags?.length) {
      // A tag has no TTL to shorten: the 'ttl' strategy expires tags (stale, kept for grace).
      if (strategy === 'delete') await this.deleteByTag(request.tags);
      else await this.expireByTag(request.tags);
      counts.tags = request.tags.length;
    }
    return counts;
  }

  /** Clears this namespace everywhere: every key in Redis, and every instance's memory tier. */
  async clear(): Promise<number> {
    const at = await this.markNamespace();
    const removed = await this.redis.unlinkMatching(this.keys.all());
    this.times.forget();
    await this.bus?.publish('c', this.namespace, null, at);
    return this.done('delete', 'namespace', removed);
  }

  /** Publishes `invalidated` and passes `count` through. */
  private done(strategy: InvalidationStrategy, target: InvalidationTarget, count: number): number {
    diagnostics.publish('invalidated', { namespace: this.namespace, strategy, target, count });
    return count;
  }

  /** Stops following the bus. */
  close(): void {
    this.unregister?.();
    this.unregisterTarget?.();
  }

  /**
   * An invalidation's time: on the Redis clock, rounded up from its upper
   * bound, so it is at or after the moment it is written. (Entries are
   * stamped with a lower bound: any doubt judges them invalidated.)
   */
  private async markerTime(): Promise<number> {
    const clock = this.redis.clock;
    if (!clock.synced) await clock.ready();
    return clock.upper();
  }

  /** Writes the namespace's invalidation time (before a clear, prefix or pattern delete reads any key). */
  private async markNamespace(): Promise<number> {
    const at = await this.markerTime();
    await this.redis.run('set', (c) => c.set(this.namespaceTimeKey(), String(at), 'PX', this.markerTtlMs));
    return at;
  }

  private async recordTagTimes(tags: readonly string[], kind: 'deleted' | 'expired'): Promise<number> {
    const at = await this.markerTime();
    await this.redis.run('set', async (c) => {
      await Promise.all(tags.map((tag) => c.set(this.times.tagTimeKey(tag, kind), String(at), 'PX', this.markerTtlMs)));
    });
    this.times.learn(kind === 'deleted' ? this.times.tagDeleted : this.times.tagExpired, tags, at);
    return at;
  }
}

/**
 * Adds a member to a tag's sorted set scored by its expiry (ARGV[2]: TTL in
 * ms, or 'inf'), drops expired members, and makes the set live as long as its
 * longest-lived member.
 */
const TAG_ADD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = ARGV[2] == 'inf' and '+inf' or (now + tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], expiry, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] == 'inf' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIREAT', KEYS[1], tonumber(last[2]))
end
return 1
`;

/** Creates an invalidator for one cache namespace. */
export function createInvalidator(redis: StrataRedis, options: InvalidatorOptions): Invalidator {
  return new Invalidator(redis, options);
}
