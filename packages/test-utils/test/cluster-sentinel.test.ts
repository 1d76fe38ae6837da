import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isProcessAlive, startRedisCluster, startRedisSentinel } from '../src/index.ts';

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
