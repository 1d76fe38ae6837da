/** core-client through Sentinel: finds the master by name, and follows a failover. */
import { type RedisSentinelHandle, startRedisSentinel } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type StrataRedis } from '../src/index.js';
import { eventually } from './helpers.js';

let group: RedisSentinelHandle;
let redis: StrataRedis;

beforeAll(async () => {
  group = await startRedisSentinel({ name: 'strata-master', replicas: 1, sentinels: 1, downAfterMs: 1000 });
  redis = createRedis({
    env: { REDIS_SENTINELS: group.sentinelsEnv, REDIS_SENTINEL_NAME: 'strata-master' },
    commandTimeout: '1s',
    breaker: false,
  });
}, 60_000);

afterAll(async () => {
  await redis?.close();
  await group?.stop();
});

describe('through Sentinel', () => {
  it('connects to the master Sentinel names', async () => {
    expect(redis.mode).toBe('sentinel');
    await redis.client.set('sentinel:k', 'v');
    expect(await redis.client.info('server')).toMatch(new RegExp(`tcp_port:${group.master.port}`));
    expect(await redis.client.info('replication')).toMatch(/role:master/);
  });

  it('follows a failover to the promoted replica', async () => {
    const replicaPort = group.replicas[0]?.port;
    await eventually(async () => /connected_slaves:1/.test(await redis.client.info('replication')), 10_000);
    await group.master.kill();
    await eventually(async () => {
      const info = await redis.client.info('server').catch(() => '');
      return info.includes(`tcp_port:${replicaPort}`);
    }, 30_000);
    expect(await redis.client.info('replication')).toMatch(/role:master/);
    await redis.client.set('after-failover', '1');
    expect(await redis.client.get('after-failover')).toBe('1');
  }, 40_000);
});
