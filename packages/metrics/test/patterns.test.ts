/** The patterns Cache driven through its public API; its metrics read from a real scrape. */
import { createLocks } from '@stratacache/coordination';
import { createCache } from '@stratacache/patterns';
import { describe, expect, it } from 'vitest';
import { seriesOf, value } from './exposition.js';
import { client, later, metrics, scrape, unique } from './helpers.js';

describe('patterns metrics', () => {
  it('counts lookups by cache, tier and result, factory calls and durations, writes and deletes', async () => {
    const redis = client();
    const namespace = unique('users');
    const writer = createCache<string>({ redis, namespace, lock: createLocks(redis), defaults: { ttl: '1m' } });
    const reader = createCache<string>({ redis, namespace, defaults: { ttl: '1m' } });
    later(() => {
      writer.close();
      reader.close();
    });
    const m = metrics({ caches: [writer] });
    await writer.set('a', 'A');
    expect(await writer.get('a')).toBe('A'); // memory hit (the writer keeps what it wrote)
    expect(await reader.get('a')).toBe('A'); // Redis hit (the reader's memory is empty)
    expect(await reader.get('a')).toBe('A'); // memory hit
    expect(await reader.get('missing-1')).toBeUndefined(); // Redis miss
    expect(await reader.get('missing-2')).toBeUndefined(); // Redis miss
    expect(await writer.getOrSet('loaded', async () => 'L')).toBe('L');
    await writer
      .getOrSet('failing', async () => {
        throw new Error('source down');
      })
      .catch(() => {});
    await writer.delete('a');

    const s = await scrape(m);
    const lookups = (tier: string, result: string) =>
      value(s, 'stratacache_cache_lookups_total', { cache: namespace, tier, result });
    expect(lookups('memory', 'hit')).toBe(2);
    expect(lookups('redis', 'hit')).toBe(1);
    expect(lookups('redis', 'miss')).toBeGreaterThanOrEqual(4); // two gets, and the two cold getOrSets
    expect(value(s, 'stratacache_cache_factory_calls_total', { cache: namespace, result: 'success' })).toBe(1);
    expect(value(s, 'stratacache_cache_factory_calls_total', { cache: namespace, result: 'error' })).toBe(1);
    expect(value(s, 'stratacache_cache_factory_duration_seconds_count', { cache: namespace })).toBe(2);
    expect(value(s, 'stratacache_cache_writes_total', { cache: namespace })).toBeGreaterThanOrEqual(2);
    expect(value(s, 'stratacache_cache_deletes_total', { cache: namespace })).toBe(1);
    // The memory-tier size is read from the cache at scrape: 'loaded' is there, 'a' was deleted.
    expect(value(s, 'stratacache_cache_memory_entries', { cache: namespace })).toBe(writer.stats().memoryEntries);
    expect(writer.stats().memoryEntries).toBeGreaterThanOrEqual(1);
    // Never a key in a label.
    expect(s.samples.some((x) => Object.values(x.labels).some((v) => v.includes('missing')))).toBe(false);
  });

  it("with lookups: 'stats' reads hits and misses from the caches' counters at scrape", async () => {
    const redis = client();
    const namespace = unique('stats');
    const cache = createCache<string>({ redis, namespace, defaults: { ttl: '1m' } });
    later(() => cache.close());
    const m = metrics({ caches: [cache], lookups: 'stats' });
    await cache.set('a', 'A');
    for (let i = 0; i < 5; i++) await cache.get('a');
    await cache.get('missing');
    const s = await scrape(m);
    const stats = cache.stats();
    expect(stats.memoryHits).toBe(5);
    expect(value(s, 'stratacache_cache_lookups_total', { cache: namespace, tier: 'memory', result: 'hit' })).toBe(5);
    expect(value(s, 'stratacache_cache_lookups_total', { cache: namespace, tier: 'redis', result: 'miss' })).toBe(
      stats.redisMisses,
    );
    expect(value(s, 'stratacache_cache_lookups_total', { cache: namespace, tier: 'memory', result: 'miss' })).toBe(
      stats.memoryMisses,
    );
  });

  it('100,000 distinct keys through a Cache give a bounded number of series', async () => {
    const m = metrics();
    const redis = client();
    const cache = createCache<number>({
      redis,
      namespace: unique('wide'),
      memory: { maxEntries: 1000 },
      defaults: { ttl: '1m' },
    });
    later(() => cache.close());
    const before = (await scrape(m)).samples.length;
    const chunk = 1000;
    for (let start = 0; start < 100_000; start += chunk) {
      const keys = Array.from({ length: chunk }, (_, i) => `key-${start + i}`);
      // 100,000 distinct keys read (all misses), and 10,000 more written.
      if (start < 10_000) await cache.setMany(keys.map((key, i) => ({ key: `set-${key}`, value: i })));
      await cache.getMany(keys);
    }
    const s = await scrape(m);
    const lookups = value(s, 'stratacache_cache_lookups_total');
    expect(lookups).toBeGreaterThanOrEqual(100_000);
    expect(seriesOf(s, 'stratacache_cache_lookups_total').length).toBeLessThanOrEqual(4);
    // Every family together: a few hundred samples at most (histogram buckets included), not one per key.
    expect(s.samples.length - before).toBeLessThan(300);
    expect(s.samples.length).toBeLessThan(600);
  }, 120_000);
});
