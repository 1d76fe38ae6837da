/**
 * The manager on a real three-master Redis Cluster: every key of a manager
 * shares its namespace's hash tag, so every script (including those that reach
 * sessions through a user's index) runs in one slot.
 */
import { createRedis, type StrataRedis } from '@stratacache/core-client';
import { eventually, type RedisClusterHandle, startRedisCluster } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionManager } from '../src/index.js';
import { SECRET } from './helpers.js';

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
  it('creates with limits, reads, lists, regenerates, destroys and counts', async () => {
    const m = createSessionManager<{ n: number }>({
      redis,
      secret: SECRET,
      namespace: 'cl',
      maxSessionsPerUser: 2,
      encryption: { keys: [{ id: 'k', key: Buffer.alloc(32, 1) }] },
    });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => m.create('u', { n: i })));
    expect(results.every((r) => r.created)).toBe(true);
    expect(await m.count('u')).toBe(2);
    const alive = results.filter((r) => r.created).map((r) => (r.created ? r.id : ''));
    const valid = [];
    for (const id of alive) if ((await m.get(id)).valid) valid.push(id);
    expect(valid).toHaveLength(2);
    const moved = await m.regenerate(valid[0] as string);
    if (!moved.valid) throw new Error('not regenerated');
    expect((await m.list('u')).length).toBe(2);
    expect(await m.destroyAllForUser('u', { except: moved.id })).toBe(1);
    expect(await m.stats()).toMatchObject({ active: 1, created: 6, evicted: 4, regenerated: 1, destroyed: 1 });
    expect(await m.destroy(moved.id)).toBe(true);
    expect(await m.clear()).toBeGreaterThan(0);
  });
});
