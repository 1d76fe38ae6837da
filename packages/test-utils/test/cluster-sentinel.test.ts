import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  isProcessAlive,
  parseTopology,
  startRedisCluster,
  startRedisSentinel,
  testRedisOptions,
  testTopology,
  withTestRedis,
} from '../src/index.ts';

describe('startRedisCluster', () => {
  it('starts three masters that serve every slot, and stops them all', async () => {
    const cluster = await startRedisCluster();
    const pids = cluster.nodes.map((n) => n.pid);
    try {
      expect(cluster.nodes).toHaveLength(3);
      const client = new Cluster([...cluster.seeds], { redisOptions: { maxRetriesPerRequest: 1 } });
      // Keys in three different slots, served by different masters.
      await client.mset('{a}k', '1');
      await client.set('{b}k', '2');
      await client.set('{c}k', '3');
      expect(await client.get('{b}k')).toBe('2');
      expect(client.nodes('master')).toHaveLength(3);
      const info = (await client.call('CLUSTER', 'INFO')) as string;
      expect(info).toMatch(/cluster_slots_assigned:16384/);
      client.disconnect();
    } finally {
      await cluster.stop();
    }
    for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
  });
});

describe('startRedisSentinel', () => {
  it('starts a master, a replica and a sentinel that knows the master by name', async () => {
    const group = await startRedisSentinel({ name: 'testmaster' });
    try {
      const sentinel = new Redis({ ...group.sentinels[0], maxRetriesPerRequest: 1 });
      const [host, port] = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'testmaster')) as string[];
      expect(`${host}:${port}`).toBe(`127.0.0.1:${group.master.port}`);
      sentinel.disconnect();
      const replica = new Redis({ port: group.replicas[0]?.port, maxRetriesPerRequest: 1 });
      expect(await replica.info('replication')).toMatch(/role:slave/);
      replica.disconnect();
    } finally {
      await group.stop();
    }
    expect(isProcessAlive(group.master.pid)).toBe(false);
  });
});

describe('a Cluster with replicas, ready for failover tests', () => {
  it('is ready only once every replica acknowledges writes; masterOf finds the owner; a killed master is followed', async () => {
    const cluster = await startRedisCluster({ replicasPerMaster: 1 });
    try {
      expect(cluster.nodes).toHaveLength(6);
      const key = 'user:{42}:profile';
      const owner = await cluster.masterOf(key);
      const direct = new Redis({ port: owner.port, maxRetriesPerRequest: 1 });
      // The owner takes the write itself (no MOVED), and its replica acknowledges it at once.
      await direct.set(key, 'v');
      expect(await direct.wait(1, 1000)).toBe(1);
      direct.disconnect();
      const [replica] = await cluster.replicasOf(owner);
      expect(replica).toBeDefined();
      await owner.kill();
      const { promoted, at } = await cluster.waitForFailover(owner);
      expect(promoted).toBe(replica);
      expect(at).toBeLessThanOrEqual(performance.now());
      // Every node learns the new owner by gossip, a moment after the promotion.
      await expect.poll(() => cluster.masterOf(key), { timeout: 10_000 }).toBe(promoted);
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});

describe('a Sentinel group, ready for failover tests', () => {
  it('has its replica acknowledging writes, and follows a killed master', async () => {
    const group = await startRedisSentinel({ name: 'fo', replicas: 1 });
    try {
      const master = new Redis({ port: group.master.port, maxRetriesPerRequest: 1 });
      await master.set('k', 'v');
      expect(await master.wait(1, 1000)).toBe(1);
      master.disconnect();
      expect(await group.currentMaster()).toBe(group.master);
      await group.master.kill();
      const { promoted } = await group.waitForFailover(group.master);
      expect(promoted).toBe(group.replicas[0]);
      await expect.poll(() => group.currentMaster(), { timeout: 10_000 }).toBe(promoted);
    } finally {
      await group.stop();
    }
  }, 60_000);
});

describe('the topology of the run', () => {
  it('parses topology names and refuses others, naming the variable', () => {
    expect(parseTopology(undefined)).toBe('standalone');
    expect(parseTopology(' Cluster ')).toBe('cluster');
    expect(() => parseTopology('mesh', 'STRATA_TOPOLOGY')).toThrowError(/STRATA_TOPOLOGY must be one of/);
  });

  it("fills in the run's Redis unless the options name their own", () => {
    expect(testTopology()).toBe('standalone'); // this package's project
    expect(withTestRedis({ prefix: 'p' })).toEqual({ ...testRedisOptions(), env: {}, prefix: 'p' });
    expect(withTestRedis({ url: 'redis://127.0.0.1:1' })).toEqual({ url: 'redis://127.0.0.1:1', env: {} });
    expect(withTestRedis({ clusterNodes: [{ host: 'h', port: 1 }] })).not.toHaveProperty('url');
  });
});
