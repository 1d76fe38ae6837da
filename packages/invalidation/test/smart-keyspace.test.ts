import { eventually } from '@stratacache/test-utils';
import { describe, expect, it } from 'vitest';
import { createInvalidationBus, createInvalidator, createSmartInvalidation, listenToKeyspace } from '../src/index.js';
import { client, server, unique } from './helpers.js';

describe('smart invalidation', () => {
  it('re-warms a hot key once after it is invalidated (single-flight), and leaves cold keys alone', async () => {
    const redis = client();
    const bus = createInvalidationBus(redis, { channel: unique('inv') });
    const inv = createInvalidator(redis, { namespace: 'cache', bus });
    const smart = createSmartInvalidation({ bus, sampleRate: 1, hotThreshold: 5 });
    const hot = inv.keys.key('product', 1);
    const cold = inv.keys.key('product', 2);
    for (let i = 0; i < 20; i++) smart.recordAccess(hot, true);
    smart.recordAccess(cold, true);
    const loads: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    smart.registerLoader(inv.keys.key('product', 'x').replace(/:x$/, ''), async (key) => {
      loads.push(key);
      await gate;
    });
    await inv.deleteKeys([hot]);
    await inv.deleteKeys([hot]); // again while the first re-warm runs: still one
    await inv.deleteKeys([cold]);
    release();
    await smart.settled();
    expect(loads).toEqual([hot]);
  });

  it('reports groups by invalidation rate, with hit rates and advice', async () => {
    const redis = client();
    const bus = createInvalidationBus(redis, { channel: unique('inv') });
    const inv = createInvalidator(redis, { namespace: 'cache', bus });
    const smart = createSmartInvalidation({ bus, sampleRate: 1 });
    const churn = (i: number) => inv.keys.key('prices', i);
    const stable = (i: number) => inv.keys.key('countries', i);
    for (let i = 0; i < 10; i++) {
      smart.recordAccess(churn(i), i % 2 === 0);
      smart.recordAccess(stable(i), true);
    }
    await inv.deleteKeys([0, 1, 2, 3, 4, 5, 6, 7].map(churn));
    const report = smart.report();
    expect(report[0]).toMatchObject({
      group: `${inv.keys.prefix}:cache:prices`,
      accesses: 10,
      hitRate: 0.5,
      invalidations: 8,
    });
    expect(report[0]?.advice).toMatch(/invalidated about as often as read/);
    expect(report[1]).toMatchObject({ group: `${inv.keys.prefix}:cache:countries`, hitRate: 1, invalidations: 0 });
  });

  it('samples: with sampleRate 0.1 only about a tenth of accesses are counted, scaled back up', () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    const smart = createSmartInvalidation({ bus: createInvalidationBus(client()), sampleRate: 0.1, random });
    for (let i = 0; i < 5000; i++) smart.recordAccess('g:k', true);
    const estimate = smart.accessesOf('g:k');
    expect(estimate).toBeGreaterThan(4000);
    expect(estimate).toBeLessThan(6000);
  });
});

describe('keyspace notifications', () => {
  it('refuses to change the server setting unless allowed, and says which flags to add', async () => {
    const s = await server();
    const redis = client({ url: s.url });
    await expect(listenToKeyspace(redis, { namespace: 'cache', targets: [] })).rejects.toThrowError(
      /notify-keyspace-events is ""/,
    );
    expect(await redis.client.config('GET', 'notify-keyspace-events')).toEqual(['notify-keyspace-events', '']);
  });

  it('drops expired and evicted keys of the namespace from local targets', async () => {
    const s = await server({ maxmemory: '3mb', maxmemoryPolicy: 'allkeys-lru' });
    const redis = client({ url: s.url });
    const dropped: string[] = [];
    const stop = await listenToKeyspace(redis, {
      namespace: 'cache',
      targets: [{ deleteLocal: (keys) => dropped.push(...keys), clearLocal: () => {} }],
      allowConfig: true,
    });
    const flags = (await redis.client.config('GET', 'notify-keyspace-events'))[1] as string;
    expect(flags).toMatch(/E/);
    const keys = redis.keys('cache');
    await redis.client.set(keys.key('short', 1), 'v', 'PX', 50);
    await redis.client.set(redis.keys('other').key('short', 1), 'v', 'PX', 50);
    await eventually(() => dropped.includes(keys.key('short', 1)));
    // Fill memory past maxmemory: Redis evicts, and the evicted keys reach the target too.
    const big = 'x'.repeat(10_000);
    for (let i = 0; i < 1000; i++) await redis.client.set(keys.key('big', i), big);
    await eventually(() => dropped.some((k) => k.includes(':big:')));
    expect(dropped.every((k) => k.startsWith(`${redis.options.prefix}:cache:`))).toBe(true);
    await stop();
  });
});
