import { createRedis } from '@stratacache/core-client';
import { describe, expect, it } from 'vitest';
import { value } from './exposition.js';
import { client, later, metrics, scrape, server } from './helpers.js';

describe('Redis server metrics', () => {
  it('reads INFO at scrape under redis_exporter names, with the counters the server keeps', async () => {
    const s = await server({ maxmemory: '64mb', maxmemoryPolicy: 'allkeys-lru' });
    const redis = client({ url: s.url });
    const m = metrics({ redis });
    await redis.client.set('k', 'v');
    await redis.client.get('k');
    await redis.client.get('nope');
    const scraped = await scrape(m);
    const node = `127.0.0.1:${s.port}`;
    expect(value(scraped, 'redis_up', { node })).toBe(1);
    expect(value(scraped, 'redis_memory_max_bytes', { node })).toBe(64 * 1024 * 1024);
    expect(value(scraped, 'redis_memory_used_bytes', { node })).toBeGreaterThan(0);
    expect(value(scraped, 'redis_keyspace_hits_total', { node })).toBeGreaterThanOrEqual(1);
    expect(value(scraped, 'redis_keyspace_misses_total', { node })).toBeGreaterThanOrEqual(1);
    expect(value(scraped, 'redis_connected_clients', { node })).toBeGreaterThanOrEqual(1);
    expect(value(scraped, 'redis_commands_processed_total', { node })).toBeGreaterThan(0);
    expect(scraped.types.get('redis_evicted_keys_total')).toBe('counter');
    expect(scraped.types.get('redis_instantaneous_ops_per_sec')).toBe('gauge');
  });

  it('one INFO per scrape for every gauge, reused within the cache TTL', async () => {
    const s = await server();
    const redis = client({ url: s.url });
    const m = metrics({ redis, scrapeCacheTtl: '1h' });
    const first = value(await scrape(m), 'redis_commands_processed_total');
    await redis.client.set('k', 'v');
    // Within the TTL the same reading is served: the counter did not move although Redis processed more.
    expect(value(await scrape(m), 'redis_commands_processed_total')).toBe(first);
  });

  it('an ACL user without INFO degrades to redis_up 0 and a count of why, the scrape still answers', async () => {
    const s = await server({ users: [{ name: 'app', password: 'app-pw', rules: ['~*', '&*', '+@all', '-info'] }] });
    const redis = createRedis({ url: `redis://app:app-pw@127.0.0.1:${s.port}`, env: {} });
    later(() => redis.close());
    const m = metrics({ redis });
    await redis.client.ping();
    const scraped = await scrape(m);
    const node = `127.0.0.1:${s.port}`;
    expect(value(scraped, 'redis_up', { node })).toBe(0);
    expect(value(scraped, 'stratacache_redis_info_errors_total', { node, reason: 'noperm' })).toBe(1);
    expect(value(scraped, 'redis_memory_used_bytes', { node })).toBe(0); // no sample, not a made-up value
  });

  it('a paused Redis makes the scrape answer within the timeout with redis_up 0', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: '10s', breaker: false });
    const m = metrics({ redis, scrapeTimeout: 200, scrapeCacheTtl: 0 });
    await redis.client.ping();
    s.pause();
    try {
      const scraped = await scrape(m);
      expect(value(scraped, 'redis_up')).toBe(0);
      expect(value(scraped, 'stratacache_redis_info_errors_total', { reason: 'timeout' })).toBeGreaterThanOrEqual(1);
    } finally {
      s.resume();
    }
    expect(value(await scrape(m), 'redis_up')).toBe(1);
  });
});
