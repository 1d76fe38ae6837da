/**
 * core-client on a real three-master Redis Cluster started from redis-server
 * processes: routing, SCAN over every master, slot-aware batches, scripts,
 * hash tags, sharded pub/sub, health, and configuration from REDIS_CLUSTER_NODES.
 */
import { type RedisClusterHandle, startRedisCluster } from '@stratacache/test-utils';
import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, defineScript, luaScripts, ScriptError, type StrataRedis } from '../src/index.js';
import { luaScripts as ownScripts } from '../src/lua.generated.js';
import { eventually } from './helpers.js';

const serverTimeScript = ownScripts.serverTime;

let cluster: RedisClusterHandle;
let redis: StrataRedis;

beforeAll(async () => {
  cluster = await startRedisCluster();
  redis = createRedis({ env: { REDIS_CLUSTER_NODES: cluster.nodesEnv }, commandTimeout: '3s' });
  await eventually(async () => (await redis.client.ping().catch(() => '')) === 'PONG');
}, 60_000);

afterAll(async () => {
  await redis?.close();
  await cluster?.stop();
});

describe('on Redis Cluster', () => {
  it('connects in cluster mode from REDIS_CLUSTER_NODES', () => {
    expect(redis.mode).toBe('cluster');
    expect(String(redis)).toMatch(/^StrataRedis\(cluster 127\.0\.0\.1:\d+/);
  });

  it('scans every master and unlinks across them', async () => {
    const keys = redis.keys('scan');
    const entries = Array.from({ length: 3000 }, (_, i) => ({ key: keys.key('item', i), value: 'x' }));
    await redis.setMany(entries);
    // The keys really are spread over the three masters.
    const perMaster = await Promise.all((redis.client as Cluster).nodes('master').map((n) => n.dbsize()));
    expect(perMaster.filter((n) => n > 0)).toHaveLength(3);
    let seen = 0;
    for await (const batch of redis.scan(keys.under('item'))) seen += batch.length;
    expect(seen).toBe(3000);
    expect(await redis.unlinkMatching(keys.under('item'))).toBe(3000);
    expect(await redis.getMany(entries.slice(0, 10).map((e) => e.key))).toEqual(new Array(10).fill(null));
  });

  it('gets and sets many keys across slots without CROSSSLOT', async () => {
    const keys = redis.keys('batch');
    const entries = Array.from({ length: 500 }, (_, i) => ({ key: keys.key('v', i), value: `value-${i}`, ttl: '1m' }));
    expect(new Set(entries.map((e) => calculateSlot(e.key))).size).toBeGreaterThan(100);
    await redis.setMany(entries, { chunkSize: 50 });
    const values = await redis.getMany(entries.map((e) => e.key));
    expect(values.map((v) => v?.toString())).toEqual(entries.map((e) => e.value));
    await redis.unlinkMatching(keys.all());
  });

  it('puts keys with the same hash tag in one slot, and runs multi-key work on them', async () => {
    const keys = redis.keys('tags');
    const a = keys.key('sess', keys.tag('user-7'), 'a');
    const b = keys.key('sess', keys.tag('user-7'), 'index');
    expect(calculateSlot(a)).toBe(calculateSlot(b));
    await redis.client.mset(a, '1', b, '2');
    expect(await redis.client.mget(a, b)).toEqual(['1', '2']);
    await redis.client.del(a, b);
  });

  it('runs scripts by SHA on the right node, and refuses keys that span slots before sending', async () => {
    const keys = redis.keys('scripts');
    const key = keys.key('lock', 'x');
    await redis.client.set(key, 'token');
    expect(await redis.runScript(luaScripts.compareAndDelete, [key], ['token'])).toBe(1);
    const spanning = { ...luaScripts.compareAndDelete, name: 'two-keys', numberOfKeys: 2 };
    await expect(redis.runScript(spanning, [keys.key('a', 1), keys.key('b', 2)], ['t'])).rejects.toBeInstanceOf(
      ScriptError,
    );
    await expect(redis.runScript(spanning, [keys.key('a', 1), keys.key('b', 2)], ['t'])).rejects.toThrowError(
      /span Cluster slots/,
    );
  });

  it('loads registered scripts on every master before its first command: no NOSCRIPT on any node', async () => {
    const script = defineScript('cluster-preload', "return redis.call('SET', KEYS[1], ARGV[1])", 1);
    redis.registerScripts([script]);
    const keys = redis.keys('preload');
    // Keys on every master: each node gets the script ahead of its first EVALSHA.
    await Promise.all(Array.from({ length: 60 }, (_, i) => redis.runScript(script, [keys.key('k', i)], ['v'])));
    const masters = (redis.client as Cluster).nodes('master');
    for (const node of masters) {
      expect(await node.info('errorstats')).not.toMatch(/NOSCRIPT/);
      expect(await node.script('EXISTS', script.sha1)).toEqual([1]);
    }
    await redis.unlinkMatching(keys.all());
  });

  it('delivers sharded pub/sub (SSUBSCRIBE / SPUBLISH) and plain pub/sub', async () => {
    const bus = redis.pubsub('cluster-events');
    const got: unknown[] = [];
    await bus.subscribe('orders', (p) => got.push(['sharded', p]), { sharded: true });
    await bus.subscribe('users', (p) => got.push(['plain', p]));
    await eventually(async () => (await bus.publish('orders', { id: 1 }, { sharded: true })) === 1);
    await bus.publish('users', { id: 2 });
    await eventually(() => got.length >= 2);
    expect(got).toContainEqual(['sharded', { id: 1 }]);
    expect(got).toContainEqual(['plain', { id: 2 }]);
  });

  it('never lets a late socket error of a cluster node become an uncaught exception', async () => {
    await redis.client.ping();
    const nodes = (redis.client as Cluster).nodes('master');
    expect(nodes.length).toBe(3);
    for (const node of nodes) {
      const stream = (node as unknown as { stream?: NodeJS.EventEmitter }).stream;
      if (!stream) continue;
      expect(() => {
        for (let i = 0; i < 3; i++) stream.emit('error', new Error(`late node socket error ${i}`));
      }).not.toThrow();
    }
  });

  it('reads its clock from one node, bracketed by its bounds', async () => {
    await redis.clock.ready();
    const lower = redis.clock.lower();
    const [seconds, micros] = (await redis.runScript(serverTimeScript, [redis.keys('core').key('clock', 'ref')])) as [
      string,
      string,
    ];
    const time = Number(seconds) * 1000 + Number(micros) / 1000;
    expect(lower).toBeLessThanOrEqual(time);
    expect(time).toBeLessThanOrEqual(redis.clock.upper());
  });

  it('reports the health of every master', async () => {
    const report = await redis.health();
    expect(report.ok).toBe(true);
    expect(report.mode).toBe('cluster');
    expect(report.nodes).toHaveLength(3);
    expect(report.nodes.every((n) => n.role === 'master')).toBe(true);
  });

  // Last: it takes the cluster down.
  it('rejects within the command timeout while the whole cluster is down, and health says so', async () => {
    const fast = createRedis({ clusterNodes: [...cluster.seeds], env: {}, commandTimeout: 400, breaker: false });
    try {
      await eventually(async () => (await fast.client.ping().catch(() => '')) === 'PONG');
      await Promise.all(cluster.nodes.map((n) => n.kill()));
      const started = performance.now();
      const error = await fast.run('get', (c) => c.get('k')).catch((e) => e);
      expect(error?.code).toMatch(/E_CONNECTION|E_TIMEOUT/);
      expect(performance.now() - started).toBeLessThan(400 + 1000);
      const report = await fast.health();
      expect(report.ok).toBe(false);
    } finally {
      await fast.close();
    }
  }, 20_000);
});
