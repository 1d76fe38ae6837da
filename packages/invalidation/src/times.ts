/**
 * The invalidation times one invalidator knows: local copies of each tag's
 * last delete and expire and each key's last expire (ms on the Redis clock),
 * kept current by the bus and re-read from Redis after `tagCacheTtl`, and
 * the verdict they give an entry read from Redis.
 *
 * The hit path asks `judgeCached` first: with every time it needs held, the
 * verdict is synchronous and builds no string (the loaded-at maps are keyed
 * by the tag or key itself); only then does `judge` read the markers.
 */
import type { KeyBuilder, StrataRedis } from '@stratacache/core-client';

/** How an entry read from Redis stands against the invalidations since it was written. */
export type Verdict = 'fresh' | 'stale' | 'deleted';

/** An entry as the cache stored it: when it was written and with which tags. */
export interface EntryStamp {
  key: string;
  /** ms since the epoch. */
  writtenAt: number;
  tags?: readonly string[];
}

const NO_TAGS: readonly string[] = [];

/** @internal The times of one invalidator (see the module comment). */
export class InvalidationTimes {
  // Local copies of invalidation times, kept fresh by the bus and re-read after tagCacheTtl.
  readonly tagDeleted = new Map<string, number>();
  readonly tagExpired = new Map<string, number>();
  readonly keyExpired = new Map<string, number>();
  // When each tag's or key's times were last read from Redis (keyed by the tag or key itself, so the hit
  // path looks them up without building a string), and reads in flight (by `t:tag` / `k:key`).
  private readonly tagLoadedAt = new Map<string, number>();
  private readonly keyLoadedAt = new Map<string, number>();
  private readonly loading = new Map<string, Promise<(number | undefined)[]>>();

  /**
   * `meta` builds the marker keys; `tagCacheMs` is how long a time read from
   * Redis is trusted (0 without a bus: read on every judgement).
   */
  constructor(
    private readonly redis: StrataRedis,
    private readonly meta: KeyBuilder,
    private readonly tagCacheMs: number,
  ) {}

  /** The marker key of `tag`'s last delete or expire. */
  tagTimeKey(tag: string, kind: 'deleted' | 'expired'): string {
    return this.meta.key('tagtime', kind, tag);
  }

  /** The marker key of `key`'s last expire. */
  keyTimeKey(key: string): string {
    return this.meta.key('keytime', key);
  }

  /** Records a time learnt here or from the bus (the newest one is kept). */
  learn(map: Map<string, number>, items: Iterable<string>, at: number): void {
    for (const item of items) remember(map, item, at);
  }

  /** Forgets every time (after a clear or a gap): they are read again before the next verdict. */
  forget(): void {
    this.tagDeleted.clear();
    this.tagExpired.clear();
    this.keyExpired.clear();
    this.tagLoadedAt.clear();
    this.keyLoadedAt.clear();
  }

  /**
   * Judges an entry read from Redis: `deleted` (treat as a miss), `stale`
   * (serve only as a grace / fail-safe value) or `fresh`.
   */
  async judge(entry: EntryStamp): Promise<Verdict> {
    const known = this.judgeCached(entry);
    if (known !== undefined) return known;
    // The times read now count even if a gap makes us forget the cached ones meanwhile.
    return this.verdict(entry, await this.loadTimes(entry.tags ?? [], [entry.key]));
  }

  /**
   * {@link judge} without a round trip: the verdict when every time it needs
   * was read within `tagCacheTtl` (the bus keeps them current meanwhile),
   * else `undefined` (call `judge`). A cache's hot hit path judges
   * synchronously this way, without building marker keys or awaiting.
   */
  judgeCached(entry: EntryStamp): Verdict | undefined {
    if (this.tagCacheMs === 0) return undefined;
    const now = Date.now();
    const tags = entry.tags ?? NO_TAGS;
    for (let i = 0; i < tags.length; i++)
      if (!this.loadedWithin(this.tagLoadedAt, tags[i] as string, now)) return undefined;
    if (!this.loadedWithin(this.keyLoadedAt, entry.key, now)) return undefined;
    // The verdict from the held times alone, in plain loops: no closure per hit.
    const writtenAt = entry.writtenAt;
    for (let i = 0; i < tags.length; i++)
      if ((this.tagDeleted.get(tags[i] as string) ?? -Infinity) >= writtenAt) return 'deleted';
    if ((this.keyExpired.get(entry.key) ?? -Infinity) >= writtenAt) return 'stale';
    for (let i = 0; i < tags.length; i++)
      if ((this.tagExpired.get(tags[i] as string) ?? -Infinity) >= writtenAt) return 'stale';
    return 'fresh';
  }

  private loadedWithin(loadedAt: Map<string, number>, item: string, now: number): boolean {
    const at = loadedAt.get(item);
    return at !== undefined && now - at < this.tagCacheMs;
  }

  /** The verdict from the cached times and those just `read` (which count even if a gap cleared the cache). */
  private verdict(entry: EntryStamp, read: Map<Map<string, number>, Map<string, number>> | undefined): Verdict {
    const tags = entry.tags ?? [];
    // An invalidation at or after the entry's as-of time wins (a tie counts: the safe side).
    const after = (map: Map<string, number>, item: string) => {
      const at = Math.max(
        map.get(item) ?? Number.NEGATIVE_INFINITY,
        read?.get(map)?.get(item) ?? Number.NEGATIVE_INFINITY,
      );
      return at >= entry.writtenAt;
    };
    if (tags.some((tag) => after(this.tagDeleted, tag))) return 'deleted';
    if (after(this.keyExpired, entry.key)) return 'stale';
    if (tags.some((tag) => after(this.tagExpired, tag))) return 'stale';
    return 'fresh';
  }

  /**
   * Reads the invalidation times of `tags` and `keys` not read within
   * tagCacheTtl: one read per item at a time, marked loaded only once it
   * succeeded. Between reads the bus keeps them current, so a cache judging
   * the same hot key on every read does not pay a round trip each time.
   */
  private async loadTimes(
    tags: readonly string[],
    keys: readonly string[],
  ): Promise<Map<Map<string, number>, Map<string, number>>> {
    const wanted: Array<[id: string, loadedAt: Map<string, number>, item: string, reads: TimeReads]> = [
      ...tags.map((tag): [string, Map<string, number>, string, TimeReads] => [
        `t:${tag}`,
        this.tagLoadedAt,
        tag,
        [
          [this.tagTimeKey(tag, 'deleted'), this.tagDeleted, tag],
          [this.tagTimeKey(tag, 'expired'), this.tagExpired, tag],
        ],
      ]),
      ...keys.map((key): [string, Map<string, number>, string, TimeReads] => [
        `k:${key}`,
        this.keyLoadedAt,
        key,
        [[this.keyTimeKey(key), this.keyExpired, key]],
      ]),
    ];
    const now = Date.now();
    const read = new Map<Map<string, number>, Map<string, number>>();
    await Promise.all(
      wanted
        .filter(([, loadedAt, item]) => this.tagCacheMs === 0 || !this.loadedWithin(loadedAt, item, now))
        .map(async ([id, loadedAt, item, reads]) => {
          let loading = this.loading.get(id);
          if (!loading) {
            loading = this.readTimes(reads).then((values) => {
              remember(loadedAt, item, Date.now());
              return values;
            });
            const settled = loading.finally(() => this.loading.delete(id));
            settled.catch(() => {});
            this.loading.set(id, loading);
          }
          const values = await loading;
          reads.forEach(([, map, item], i) => {
            const value = values[i];
            if (value === undefined) return;
            let times = read.get(map);
            if (!times) {
              times = new Map();
              read.set(map, times);
            }
            times.set(item, value);
          });
        }),
    );
    return read;
  }

  /** Reads marker times and remembers them; resolves each (undefined where none is set). */
  private async readTimes(wanted: TimeReads): Promise<(number | undefined)[]> {
    const values = await this.redis.getMany(wanted.map(([k]) => k));
    return wanted.map(([, map, item], i) => {
      const value = values[i];
      if (!value) return undefined;
      const at = Number(value.toString());
      remember(map, item, at);
      return at;
    });
  }
}

/** Marker reads of one tag or key: the Redis key, the map it is cached in, the tag or key. */
type TimeReads = Array<[string, Map<string, number>, string]>;

/** Most tags and keys whose times are cached in process; the oldest are forgotten first. */
const MAX_CACHED = 100_000;

/** Keeps the newest time of `item`, bounded in size. */
function remember(map: Map<string, number>, item: string, at: number): void {
  const current = map.get(item);
  if (current !== undefined && current >= at) return;
  map.delete(item);
  map.set(item, at);
  if (map.size > MAX_CACHED) map.delete(map.keys().next().value as string);
}
