/**
 * Invalidation on a real three-master Redis Cluster (with replicas) started
 * for this file: the bus keeps each sender's order (sharded pub/sub), real
 * losses still clear memory tiers, eager tags work across slots, and
 * keyspace notifications are heard from every master.
 */
import { eventually, type RedisClusterHandle, startRedisCluster } from '@stratacache/test-utils';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInvalidationBus, createInvalidator, type InvalidationBus, listenToKeyspace } from '../src/index.js';
import { client, unique } from './helpers.js';

let cluster: RedisClusterHandle;
const buses: InvalidationBus[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster({ replicasPerMaster: 1 });
}, 60_000);

afterAll(async () => {
  await Promise.all(buses.map((b) => b.stop().catch(() => {})));
  await cluster?.stop();
});

/** A client of this file's Cluster; instances given the same prefix share keys and the bus channel. */
const clusterClient = (prefix: string, options: Parameters<typeof client>[0] = {}) =>
  client({ clusterNodes: [...cluster.seeds], prefix, ...options });

async function bus(prefix: string, channel: string, options: Parameters<typeof createInvalidationBus>[1] = {}) {
  const b = createInvalidationBus(clusterClient(prefix), { channel, ...options });
  await b.start();
  buses.push(b);
  return b;
}

describe('the bus on Cluster', () => {
  it('is sharded by default: 1,000 invalidations from one instance arrive in order, no gap reported', async () => {
    const prefix = unique('app');
    const channel = unique('inv');
    const a = await bus(prefix, channel);
    const b = await bus(prefix, channel);
    expect(a.sharded).toBe(true);
    const gaps: unknown[] = [];
    const got: string[] = [];
    b.on('gap', (gap) => gaps.push(gap));
    b.register({ namespace: 'cache', deleteLocal: (keys) => got.push(...keys), clearLocal: () => got.push('CLEAR') });
    // As 1,000 plain sets of a Cache would: one `dk` each, as fast as they go.
    await Promise.all(Array.from({ length: 1000 }, (_, i) => a.publish('dk', 'cache', [`k${i}`])));
    await eventually(() => got.length >= 1000, 20_000);
    expect(gaps).toEqual([]);
    expect(got).not.toContain('CLEAR');
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => `k${i}`)); // in the order sent
  }, 40_000);

  it('still clears on a real loss: the subscriber connection of the shard is killed while A invalidates', async () => {
    const prefix = unique('app');
    const channel = unique('inv');
    const a = await bus(prefix, channel);
    const bRedis = clusterClient(prefix);
    const b = createInvalidationBus(bRedis, { channel });
    await b.start();
    buses.push(b);
    const local = new Map(Array.from({ length: 10 }, (_, i) => [`k${i}`, `v${i}`]));
    const events: string[] = [];
    b.register({
      namespace: 'cache',
      deleteLocal: (keys) => {
        for (const key of keys) local.delete(key);
      },
      clearLocal: () => {
        events.push(`clear:${local.size}`);
        local.clear();
      },
    });
    b.on('gap', () => events.push('gap'));
    // The master carrying the sharded channel, and every pub/sub connection on it.
    const shardChannel = bRedis.pubsub('events').channelOf(channel);
    const owner = await cluster.masterOf(shardChannel);
    const admin = (bRedis.client as Cluster)
      .nodes('master')
      .find((node) => node.options.port === owner.port) as NonNullable<ReturnType<Cluster['nodes']>[number]>;
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    // Published while B's shard subscriber is away: lost for B.
    for (let i = 0; i < 5; i++) await a.publish('dk', 'cache', [`k${i}`]).catch(() => {});
    await eventually(() => events.includes('gap'), 20_000);
    expect(events.find((e) => e.startsWith('clear:'))).toBeDefined();
    expect(local.size).toBe(0);
    expect(b.connected).toBe(true);
    // And B hears A again afterwards.
    const after: string[] = [];
    b.onInvalidation((e) => {
      if (!e.local) after.push(...e.items);
    });
    await eventually(async () => {
      await a.publish('dk', 'cache', ['again']);
      return after.includes('again');
    }, 20_000);
  }, 60_000);
});

describe('eager tags on Cluster', () => {
  it('records tags of keys on every master and deletes them all by tag', async () => {
    const redis = clusterClient(unique('tags'));
    const inv = createInvalidator(redis, { namespace: 'cache', tags: 'eager' });
    const keys = Array.from({ length: 30 }, (_, i) => inv.keys.key('e', i));
    const masters = new Set(await Promise.all(keys.map(async (k) => (await cluster.masterOf(k)).port)));
    expect(masters.size).toBe(3); // the members really live on every master
    for (const key of keys) {
      await redis.client.set(key, 'v', 'PX', 60_000);
      await inv.addTags(key, ['blue', 'all'], 60_000);
    }
    expect(await inv.deleteByTag(['blue'])).toBe(30);
    expect(await redis.getMany(keys)).toEqual(new Array(30).fill(null));
    expect(await inv.judge({ key: keys[0] as string, writtenAt: 0, tags: ['blue'] })).toBe('deleted');
  }, 30_000);

  it('refuses recordTags (one pipeline across slots) at the call, naming addTags', async () => {
    const redis = clusterClient(unique('tags'));
    const inv = createInvalidator(redis, { namespace: 'cache', tags: 'eager' });
    const pipeline = redis.client.pipeline();
    expect(() => inv.recordTags(pipeline, inv.keys.key('e', 1), ['t'], 1000)).toThrowError(/addTags/);
  });
});

describe('keyspace notifications on Cluster', () => {
  it('says which flags each master lacks unless allowed to set them', async () => {
    const redis = clusterClient(unique('ks'));
    await expect(listenToKeyspace(redis, { namespace: 'cache', targets: [{ clearLocal() {} }] })).rejects.toThrowError(
      /node 127\.0\.0\.1:\d+ does not send expired\/evicted key events/,
    );
  });

  it('hears expirations from every master', async () => {
    const redis = clusterClient(unique('ks'));
    const dropped = new Set<string>();
    const stop = await listenToKeyspace(redis, {
      namespace: 'cache',
      allowConfig: true,
      targets: [{ deleteLocal: (keys) => keys.forEach((k) => void dropped.add(k)), clearLocal() {} }],
    });
    try {
      const keys = Array.from({ length: 30 }, (_, i) => redis.keys('cache').key('x', i));
      const masters = new Set(await Promise.all(keys.map(async (k) => (await cluster.masterOf(k)).port)));
      expect(masters.size).toBe(3);
      for (const key of keys) await redis.client.set(key, '1', 'PX', 50);
      await eventually(() => dropped.size === keys.length, 15_000);
      expect([...dropped].sort()).toEqual([...keys].sort());
    } finally {
      await stop();
    }
  }, 30_000);
});
