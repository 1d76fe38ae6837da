import { redisTest } from '@stratacache/test-utils';
import { describe, expect } from 'vitest';
import { createKeyBuilder } from '../src/index.js';
import { client, server } from './helpers.js';

describe('SCAN and unlinkMatching', () => {
  redisTest('finds all of 20k keys in batches and never uses KEYS', async ({ ns }) => {
    // A private server, so its command statistics are ours alone.
    const redis = client({ url: (await server()).url });
    const keys = createKeyBuilder({ prefix: ns.replace(/\./g, '-'), namespace: 'scan' });
    const total = 20_000;
    const pipeline = redis.client.pipeline();
    for (let i = 0; i < total; i++) pipeline.set(keys.key('item', i), 'x');
    await pipeline.exec();
    await redis.client.set(keys.key('other', 1), 'x');

    const seen = new Set<string>();
    let batches = 0;
    for await (const batch of redis.scan(keys.under('item'), { count: 1000 })) {
      batches++;
      for (const key of batch) seen.add(key);
    }
    expect(seen.size).toBe(total);
    expect(batches).toBeGreaterThan(1);

    expect(await redis.unlinkMatching(keys.under('item'), { dryRun: true })).toBe(total);
    expect(await redis.client.exists(keys.key('item', 0))).toBe(1);
    expect(await redis.unlinkMatching(keys.under('item'))).toBe(total);
    expect(await redis.client.exists(keys.key('item', 0), keys.key('item', total - 1))).toBe(0);
    expect(await redis.client.get(keys.key('other', 1))).toBe('x'); // outside the pattern
    const stats = await redis.client.info('commandstats');
    expect(stats).toMatch(/cmdstat_scan:/);
    expect(stats).not.toMatch(/cmdstat_keys:/);
  });

  redisTest('a hostile id cannot make unlinkMatching reach other keys', async ({ ns }) => {
    const redis = client();
    const keys = createKeyBuilder({ prefix: ns.replace(/\./g, '-'), namespace: 'scan' });
    await redis.client.mset(
      keys.key('u', 'alice', 'a'),
      '1',
      keys.key('u', 'bob', 'b'),
      '1',
      keys.key('u', '*', 'c'),
      '1',
    );
    expect(await redis.unlinkMatching(keys.under('u', '*'))).toBe(1);
    expect(await redis.client.exists(keys.key('u', 'alice', 'a'), keys.key('u', 'bob', 'b'))).toBe(2);
    await redis.unlinkMatching(keys.all());
  });
});

describe('getMany and setMany', () => {
  redisTest('set with per-key TTLs and read back in order, with misses and repeats', async ({ ns }) => {
    const redis = client();
    const keys = createKeyBuilder({ prefix: ns.replace(/\./g, '-'), namespace: 'batch' });
    const entries = Array.from({ length: 1200 }, (_, i) => ({
      key: keys.key('v', i),
      value: i % 2 ? Buffer.from([i % 256, 0, 255]) : `value-${i}`,
      ttl: i % 3 === 0 ? undefined : i % 3 === 1 ? 60_000 : '2m',
    }));
    await redis.setMany(entries, { chunkSize: 100 });
    expect(await redis.client.pttl(keys.key('v', 0))).toBe(-1);
    expect(await redis.client.pttl(keys.key('v', 1))).toBeGreaterThan(50_000);
    expect(await redis.client.pttl(keys.key('v', 2))).toBeGreaterThan(100_000);

    const wanted = [keys.key('v', 5), keys.key('missing', 1), keys.key('v', 4), keys.key('v', 5)];
    const values = await redis.getMany(wanted, { chunkSize: 2 });
    expect(values[0]).toEqual(Buffer.from([5, 0, 255]));
    expect(values[1]).toBeNull();
    expect(values[2]?.toString()).toBe('value-4');
    expect(values[3]).toEqual(values[0]);
    // One MGET (no chunking): the same answers, in the same order, repeats included.
    expect(await redis.getMany(wanted)).toEqual(values);
    const all = await redis.getMany(entries.map((e) => e.key));
    expect(all.every((v) => v !== null)).toBe(true);
    await redis.unlinkMatching(keys.all());
  });

  redisTest('refuses a zero TTL instead of writing a key that never expires', async () => {
    const redis = client();
    await expect(redis.setMany([{ key: 'k', value: 'v', ttl: 0 }])).rejects.toThrowError(/ttl must be more than 0/);
  });
});
