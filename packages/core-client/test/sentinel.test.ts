/**
 * core-client through Sentinel: finds the master by name, WAITs for its
 * replica, and follows a failover; under load, the breaker closes as soon as
 * the client reaches the promoted replica (not after its open duration), and
 * the client reconnects on Sentinel's announcement instead of its next
 * reconnect delay.
 */
import { type RedisSentinelHandle, startRedisSentinel } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type StrataRedis } from '../src/index.js';
import { eventually, sleep } from './helpers.js';

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

  it('says how many replicas acknowledged its writes (WAIT)', async () => {
    await redis.client.set('sentinel:acked', '1');
    expect(await redis.waitForReplicas('sentinel:acked', 1, '500ms')).toBe(1);
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

describe('a Sentinel failover under load', () => {
  it('closes the breaker once the promoted replica answers, without waiting for the open duration', async ({
    annotate,
  }) => {
    const own = await startRedisSentinel({ name: 'strata-load', replicas: 1, sentinels: 1, downAfterMs: 1000 });
    const client = createRedis({
      sentinels: [...own.sentinels],
      sentinelName: 'strata-load',
      env: {},
      commandTimeout: '1s',
      breaker: { failureThreshold: 3, window: '10s', openDuration: '1h' },
    });
    try {
      await client.run('set', (c) => c.set('k', '0'));
      let running = true;
      let killed = 0;
      const oks: number[] = [];
      const codes = new Map<string, number>();
      const worker = async () => {
        for (let i = 0; running; i++) {
          try {
            await client.run('set', (c) => c.set(`k${i % 20}`, String(i)));
            if (killed) oks.push(performance.now());
          } catch (error) {
            const code = (error as { code?: string }).code ?? 'none';
            codes.set(code, (codes.get(code) ?? 0) + 1);
            await sleep(2);
          }
        }
      };
      const workers = Array.from({ length: 4 }, worker);
      await sleep(200);
      killed = performance.now();
      await own.master.kill();
      const { at: promotedAt } = await own.waitForFailover(own.master);
      await eventually(() => oks.some((t) => t > promotedAt), 20_000);
      running = false;
      await Promise.all(workers);
      expect(client.breaker?.state).toBe('closed');
      expect(codes.get('E_CIRCUIT_OPEN') ?? 0).toBeGreaterThan(0); // it did open during the outage
      expect([...codes.keys()].every((c) => ['E_CIRCUIT_OPEN', 'E_CONNECTION', 'E_TIMEOUT'].includes(c))).toBe(true);
      const recoveredMs = Math.round((oks.find((t) => t > promotedAt) as number) - promotedAt);
      annotate(
        `promotion ${Math.round(promotedAt - killed)} ms after the kill; writes worked again ${recoveredMs} ms after it (Sentinel reports a promotion after its next INFO of the replica, up to 1 s)`,
      );
      expect(recoveredMs).toBeLessThan(5000); // generous slack on a busy machine
    } finally {
      await client.close();
      await own.stop();
    }
  }, 60_000);
});
