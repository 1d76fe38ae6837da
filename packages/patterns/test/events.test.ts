/**
 * What each verb publishes, in order: one event per tier a lookup consulted,
 * so a hit ratio computed from the channels (or from stats()) is exact.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createLocks } from '@stratacache/coordination';
import { afterEach, describe, expect, it } from 'vitest';
import { PatternsChannels } from '../src/index.js';
import { cache, client, deferred } from './helpers.js';

const seen: string[] = [];
const handlers = Object.entries(PatternsChannels).map(([event, name]) => {
  const handler = (m: unknown) => {
    const msg = m as { tier?: string; reason?: string };
    seen.push([event, msg.tier ?? msg.reason].filter(Boolean).join(':'));
  };
  subscribe(name, handler);
  return () => unsubscribe(name, handler);
});
afterEach(() => {
  seen.length = 0;
});
process.on('beforeExit', () => {
  for (const off of handlers) off();
});

describe('events per verb', () => {
  it('get: a memory miss then a Redis hit; then a memory hit', async () => {
    const redis = client();
    const writer = cache<string>({ redis, memory: false });
    const c = cache<string>({ redis });
    await writer.set('k', 'v');
    seen.length = 0;
    expect(await c.get('k')).toBe('v');
    expect(await c.get('k')).toBe('v');
    expect(seen).toEqual(['miss:memory', 'hit:redis', 'hit:memory']);
    expect(c.stats()).toMatchObject({ memoryMisses: 1, redisHits: 1, memoryHits: 1, redisMisses: 0 });
  });

  it('a cold getOrSet with the stampede lock: one miss per tier, one factory call, one set', async () => {
    const redis = client();
    const c = cache<string>({ redis, lock: createLocks(redis) });
    expect(await c.getOrSet('k', () => 'v')).toBe('v');
    expect(seen).toEqual(['miss:memory', 'miss:redis', 'factory', 'set']);
    expect(c.stats()).toMatchObject({ memoryMisses: 1, redisMisses: 1, factoryCalls: 1, sets: 1 });
  });

  it('a write-back refused by a concurrent delete says why', async () => {
    const c = cache<string>({ redis: client(), memory: false });
    const read = deferred();
    const resume = deferred();
    const loading = c.getOrSet('k', async () => {
      read.resolve();
      await resume.promise;
      return 'old';
    });
    await read.promise;
    await c.delete('k');
    resume.resolve();
    await loading;
    expect(seen).toEqual(['miss:redis', 'delete', 'factory', 'refused:invalidated']);
  });

  it('a failing factory with a stale value at hand: the stale value is served and says why', async () => {
    const c = cache<string>({ redis: client(), defaults: { ttl: 50, grace: '1m', jitter: 0 } });
    await c.set('k', 'old');
    await new Promise((r) => setTimeout(r, 80));
    seen.length = 0;
    expect(await c.getOrSet('k', () => Promise.reject(new Error('db down')))).toBe('old');
    expect(seen).toEqual(['miss:memory', 'miss:redis', 'factory', 'stale:factory-error']);
  });
});

describe('round trips', () => {
  it('a Redis hit of get and of getOrSet is one GET and nothing else', async () => {
    const { server } = await import('./helpers.js');
    const s = await server();
    const redis = client({ url: s.url });
    const c = cache<string>({ redis, memory: false, defaults: { tags: [] } });
    await c.set('k', 'v');
    expect(await c.get('k')).toBe('v');
    const calls = async () => {
      const info = (await redis.client.info('commandstats')) as string;
      const counts: Record<string, number> = {};
      for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) counts[m[1] as string] = Number(m[2]);
      return counts;
    };
    const before = await calls();
    for (let i = 0; i < 100; i++) {
      expect(await c.get('k')).toBe('v');
      expect(await c.getOrSet('k', () => 'never')).toBe('v');
    }
    const after = await calls();
    const delta = Object.fromEntries(
      Object.keys(after)
        .map((name) => [name, (after[name] ?? 0) - (before[name] ?? 0)])
        .filter(([, n]) => (n as number) > 0),
    );
    // The clock's background samples (TIME) are no part of a hit: a wide sample is resampled after 100 ms,
    // 200 ms, ..., so a loaded machine may see a few of them in this loop; never one per hit.
    const { time = 0, ...perHit } = delta as Record<string, number>;
    expect(perHit).toEqual({ get: 200, info: 1 });
    expect(time).toBeLessThanOrEqual(5);
  });

  it('hits issued in the same tick are one MGET; with batchReads: false, one GET each', async () => {
    const { server } = await import('./helpers.js');
    const s = await server();
    const redis = client({ url: s.url });
    const batched = cache<string>({ redis, memory: false });
    const direct = cache<string>({ redis, memory: false, batchReads: false });
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    for (const k of keys) await batched.set(k, `v-${k}`);
    expect(await batched.get('k0')).toBe('v-k0');
    const calls = async () => {
      const info = (await redis.client.info('commandstats')) as string;
      const counts: Record<string, number> = {};
      for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) counts[m[1] as string] = Number(m[2]);
      return counts;
    };
    const delta = (before: Record<string, number>, after: Record<string, number>) =>
      Object.fromEntries(
        Object.keys(after)
          .map((name) => [name, (after[name] ?? 0) - (before[name] ?? 0)])
          .filter(([, n]) => (n as number) > 0),
      );
    let before = await calls();
    const got = await Promise.all([
      ...keys.map((k) => batched.get(k)),
      ...keys.map((k) => batched.getOrSet(k, () => 'never')),
      batched.get('missing'),
    ]);
    expect(got).toEqual([...keys.map((k) => `v-${k}`), ...keys.map((k) => `v-${k}`), undefined]);
    expect(delta(before, await calls())).toEqual({ mget: 1, info: 1 });
    expect(batched.stats()).toMatchObject({ redisHits: 101, redisMisses: 1 });

    before = await calls();
    expect(await Promise.all(keys.map((k) => direct.get(k)))).toEqual(keys.map((k) => `v-${k}`));
    expect(delta(before, await calls())).toEqual({ get: 50, info: 1 });
  });

  it('in a batch, a key holding another Redis type reads as a miss; alone, it is refused', async () => {
    const redis = client();
    const c = cache<string>({ redis, memory: false });
    await c.set('ok', 'v');
    // Another program wrote a hash where the cache keeps an entry: MGET answers nil for it, GET refuses.
    await redis.client.hset(`${redis.options.prefix}:cache:e:foreign`, 'field', 'value');
    expect(await Promise.all([c.get('ok'), c.get('foreign')])).toEqual(['v', undefined]);
    await expect(c.get('foreign')).rejects.toMatchObject({ message: expect.stringContaining('WRONGTYPE') });
  });
});
