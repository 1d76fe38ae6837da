/**
 * The memory tier (L1): one bounded LRU shared by a cache and its child
 * namespaces, keyed by the entry's full Redis key (unique across namespaces,
 * and the form bus messages carry). Values are stored decoded.
 *
 * lru-cache (isaacs) does the LRU and the entry / byte bounds; expiry is
 * ours (`checkAt`, `expiresAt`, `staleUntil` below), because a memory entry
 * outlives its freshness: it is kept until its grace ends for fail-safe.
 */
import { LRUCache } from 'lru-cache';

/** One entry in memory. Times are ms since the epoch on the cache's clock (the Redis server's, estimated). */
export interface MemoryEntry {
  value: unknown;
  /** 1 value, 3 cached error (value is `{ name, message }`). */
  kind: number;
  /** As of: when the value was known current (see entry.ts). */
  writtenAt: number;
  /** Logical expiry: fresh before it. */
  expiresAt: number;
  /** Read Redis again from this time on (memory `ttl`, at most `expiresAt`). */
  checkAt: number;
  /** Kept for fail-safe until this time (expiry plus grace). */
  staleUntil: number;
  /** The entry's TTL when written, for refresh-ahead. */
  ttlMs: number;
  tags: readonly string[];
  version: number;
  /** Encoded size in bytes (for `maxBytes`). */
  size: number;
  /** After a failure served this stale value: do not call the factory again before this time. */
  retryAt?: number;
}

/** The shared LRU. */
export class MemoryTier {
  readonly lru: LRUCache<string, MemoryEntry>;
  private evicted: (() => void) | undefined;

  constructor(maxEntries: number, maxBytes: number | undefined) {
    const dispose = (_value: MemoryEntry, _key: string, reason: LRUCache.DisposeReason) => {
      if (reason === 'evict') this.evicted?.();
    };
    this.lru = new LRUCache<string, MemoryEntry>(
      maxBytes === undefined
        ? { max: maxEntries, dispose }
        : { max: maxEntries, maxSize: maxBytes, sizeCalculation: (entry) => Math.max(1, entry.size), dispose },
    );
  }

  /** Calls `listener` for each entry evicted to stay within the bounds (one listener). */
  onEvict(listener: () => void): void {
    this.evicted = listener;
  }

  /** True once an eviction listener is set. */
  get hasEvictionListener(): boolean {
    return this.evicted !== undefined;
  }

  get(key: string): MemoryEntry | undefined {
    return this.lru.get(key);
  }

  /** Reads without touching recency (for stale lookups and background checks). */
  peek(key: string): MemoryEntry | undefined {
    return this.lru.peek(key);
  }

  set(key: string, entry: MemoryEntry): void {
    this.lru.set(key, entry);
  }

  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  /** Deletes every entry for which `test` holds; returns how many went. */
  deleteWhere(test: (key: string, entry: MemoryEntry) => boolean): number {
    const doomed: string[] = [];
    for (const [key, entry] of this.lru.entries()) if (test(key, entry)) doomed.push(key);
    for (const key of doomed) this.lru.delete(key);
    return doomed.length;
  }

  /** Marks matching entries stale as of `at` (kept for grace). */
  expireWhere(at: number, test: (key: string, entry: MemoryEntry) => boolean): void {
    for (const [key, entry] of this.lru.entries()) {
      if (!test(key, entry)) continue;
      if (entry.expiresAt > at) entry.expiresAt = at;
      if (entry.checkAt > at) entry.checkAt = at;
    }
  }

  get size(): number {
    return this.lru.size;
  }
}
