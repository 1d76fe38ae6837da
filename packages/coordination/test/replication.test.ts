/**
 * `waitReplicas`: a lock acquire or a fenced write followed by WAIT on the
 * connection that carried it, reported unsafe when too few replicas
 * acknowledged. On a server without replicas, on a Sentinel group (master and
 * replica) with the replica healthy and frozen, and on a Cluster whose keys
 * live on three masters (WAIT must go to the master that took the write).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  type RedisClusterHandle,
  type RedisSentinelHandle,
  startRedisCluster,
  startRedisSentinel,
} from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationChannels, createLocks } from '../src/index.js';
import { client, server, unique } from './helpers.js';

describe('waitReplicas on a server without replicas', () => {
  it('grants the lock and writes, but reports both unsafe, with an event', async () => {
    const s = await server();
    const redis = client({ url: s.url });
    const locks = createLocks(redis, { waitReplicas: 1, waitTimeout: '50ms' });
    const events: unknown[] = [];
    const listener = (m: unknown) => events.push(m);
    subscribe(CoordinationChannels.replicationShort, listener);
    try {
      const lock = await locks.acquire(unique('job'));
      expect(lock).not.toBeNull();
      expect(lock?.safe).toBe(false);
      expect(lock?.replication).toEqual({ wanted: 1, acknowledged: 0, safe: false });
      const key = redis.keys('data').key('doc', redis.keys('data').tag('d1'));
      const write = await locks.fencedWrite(key, 'v1', lock?.fence ?? 0);
      expect(write).toEqual({ written: true, safe: false, replication: { wanted: 1, acknowledged: 0, safe: false } });
      expect(events).toEqual([
        expect.objectContaining({ op: 'acquire', wanted: 1, acknowledged: 0 }),
        expect.objectContaining({ op: 'fenced-write', wanted: 1, acknowledged: 0 }),
      ]);
      // A refused write sends no WAIT and is not "unsafe": it did not happen.
      expect(await locks.fencedWrite(key, 'old', 0)).toEqual({ written: false, safe: true, replication: undefined });
      await lock?.release();
    } finally {
      unsubscribe(CoordinationChannels.replicationShort, listener);
    }
  });

  it('sends no WAIT unless asked: safe, no replication report', async () => {
    const locks = createLocks(client());
    const lock = await locks.acquire(unique('job'));
    expect(lock?.safe).toBe(true);
    expect(lock?.replication).toBeUndefined();
    await lock?.release();
  });

  it('refuses a WAIT timeout the command timeout would cut short', async () => {
    const locks = createLocks(client({ commandTimeout: '1s' }));
    await expect(locks.acquire(unique('job'), { waitReplicas: 1, waitTimeout: '2s' })).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringMatching(/timeout must be shorter than commandTimeout/),
    });
  });
});

describe('waitReplicas behind Sentinel', () => {
  let group: RedisSentinelHandle;
  beforeAll(async () => {
    group = await startRedisSentinel({ name: 'coord-repl', replicas: 1 });
  }, 60_000);
  afterAll(async () => {
    await group?.stop();
  });

  it('is safe once the replica acknowledged, and unsafe while the replica is frozen', async () => {
    const redis = client({ sentinels: [...group.sentinels], sentinelName: 'coord-repl', commandTimeout: '2s' });
    const locks = createLocks(redis, { waitReplicas: 1, waitTimeout: '500ms' });
    const lock = await locks.acquire(unique('job'));
    expect(lock?.replication).toEqual({ wanted: 1, acknowledged: 1, safe: true });
    const replica = group.replicas[0];
    if (!replica) throw new Error('the group has a replica');
    replica.pause();
    try {
      const key = redis.keys('data').key('doc', redis.keys('data').tag('d1'));
      const write = await locks.fencedWrite(key, 'v', lock?.fence ?? 0);
      expect(write.written).toBe(true);
      expect(write.safe).toBe(false);
      expect(write.replication?.acknowledged).toBe(0);
    } finally {
      replica.resume();
    }
    await lock?.release();
  }, 30_000);
});

describe('waitReplicas on Cluster', () => {
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    cluster = await startRedisCluster({ replicasPerMaster: 1 });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("waits on the master that took each write: locks on every master report their replica's acknowledgement", async () => {
    const redis = client({ clusterNodes: [...cluster.seeds] });
    const locks = createLocks(redis, { waitReplicas: 1, waitTimeout: '500ms' });
    // At least 12 names, and as many more as it takes to have one on every master (12 random names
    // all miss one of three masters about 2% of the time).
    const names: string[] = [];
    const masters = new Set<number>();
    for (let i = 0; names.length < 12 || masters.size < 3; i++) {
      if (i === 500) throw new Error('500 lock names never reached all three masters');
      const name = unique(`job${i}`);
      names.push(name);
      masters.add((await cluster.masterOf(locks.lockKey(name))).port);
    }
    expect(masters.size).toBe(3);
    for (const name of names) {
      const lock = await locks.acquire(name);
      expect(lock?.replication).toEqual({ wanted: 1, acknowledged: 1, safe: true });
      await lock?.release();
    }
  }, 30_000);
});
