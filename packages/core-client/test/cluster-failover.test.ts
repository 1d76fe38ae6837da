/**
 * A master of a real Cluster (three masters, a replica each) is killed with
 * SIGKILL while commands run on keys of every master. The breakers are per
 * node: the keys of the healthy masters never fail, the dead master's keys
 * fail fast (as availability errors, never E_WRITE), the summary breaker
 * never opens, and the dead master's keys work again once its replica is
 * promoted, without waiting for the breaker's open duration.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type RedisClusterHandle, startRedisCluster } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreChannels, createRedis, mapRedisError } from '../src/index.js';
import { eventually, sleep } from './helpers.js';

let cluster: RedisClusterHandle;

beforeAll(async () => {
  cluster = await startRedisCluster({ replicasPerMaster: 1 });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('a Cluster master killed under load', () => {
  it('fails fast only for its keys, and recovers once its replica is promoted', async ({ annotate }) => {
    // An open duration far longer than the test: only the promotion can bring the keys back.
    const redis = createRedis({
      clusterNodes: [...cluster.seeds],
      env: {},
      breaker: { failureThreshold: 5, window: '10s', openDuration: '1h' },
    });
    const summary: unknown[] = [];
    const nodes: unknown[] = [];
    const onSummary = (m: unknown) => summary.push(m);
    const onNode = (m: unknown) => nodes.push(m);
    subscribe(CoreChannels.breaker, onSummary);
    subscribe(CoreChannels.nodeBreaker, onNode);
    try {
      const keys = Array.from({ length: 60 }, (_, i) => redis.keys('fo').key('k', i));
      await eventually(async () => (await redis.run('ping', (c) => c.ping()).catch(() => '')) === 'PONG');
      const owner = new Map(await Promise.all(keys.map(async (k) => [k, (await cluster.masterOf(k)).port] as const)));
      const victim = await cluster.masterOf(keys[0] as string);
      const victimKeys = new Set(keys.filter((k) => owner.get(k) === victim.port));
      expect(victimKeys.size).toBeGreaterThan(0);
      expect(victimKeys.size).toBeLessThan(keys.length);

      const healthyErrors: string[] = [];
      const victimErrors = new Map<string, number>();
      let killed = 0;
      const victimOks: number[] = [];
      let running = true;
      const worker = async (offset: number) => {
        for (let i = offset; running; i++) {
          const key = keys[i % keys.length] as string;
          try {
            await redis.run('set', (c) => c.set(key, String(i)));
            if (killed && victimKeys.has(key)) victimOks.push(performance.now());
          } catch (error) {
            const code = (error as { code?: string }).code ?? 'none';
            if (victimKeys.has(key)) victimErrors.set(code, (victimErrors.get(code) ?? 0) + 1);
            else healthyErrors.push(`${code}: ${(error as Error).message}`);
            await sleep(2); // a refused call returns at once: let the event loop breathe
          }
        }
      };
      const workers = Array.from({ length: 8 }, (_, i) => worker(i * 7));
      await sleep(300);
      killed = performance.now();
      await victim.kill();
      const { at: promotedAt } = await cluster.waitForFailover(victim);
      // Keep going until a victim key has worked after the promotion, then a little longer.
      await eventually(() => victimOks.some((t) => t > promotedAt), 20_000);
      await sleep(500);
      running = false;
      await Promise.all(workers);

      expect(healthyErrors).toEqual([]);
      // Only availability failures, and mostly refused at once by the node's open breaker.
      expect(
        [...victimErrors.keys()].every((code) => ['E_CIRCUIT_OPEN', 'E_CONNECTION', 'E_TIMEOUT'].includes(code)),
      ).toBe(true);
      expect(victimErrors.get('E_CIRCUIT_OPEN') ?? 0).toBeGreaterThan(0);
      expect(nodes).toContainEqual(expect.objectContaining({ node: `127.0.0.1:${victim.port}`, to: 'open' }));
      expect(summary).not.toContainEqual(expect.objectContaining({ to: 'open' }));
      const recoveredMs = Math.round((victimOks.find((t) => t > promotedAt) as number) - promotedAt);
      annotate(
        `promotion ${Math.round(promotedAt - killed)} ms after the kill; the dead master's keys worked again ${recoveredMs} ms after it; ${[...victimErrors].map(([c, n]) => `${n} ${c}`).join(', ')} on its keys, 0 on the others`,
      );
      // Generous slack on a busy machine: measured well under a second (see the README).
      expect(recoveredMs).toBeLessThan(5000);
    } finally {
      unsubscribe(CoreChannels.breaker, onSummary);
      unsubscribe(CoreChannels.nodeBreaker, onNode);
      await redis.close();
    }
  }, 60_000);
});

describe('Cluster errors of a failover', () => {
  it('maps redirections that ran out to E_CONNECTION (an outage), never E_WRITE', () => {
    for (const raw of [
      'Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down',
      'Too many Cluster redirections. Last error: Error: Connection is closed.',
      'MOVED 3999 127.0.0.1:6381',
      'ASK 3999 127.0.0.1:6381',
    ]) {
      const mapped = mapRedisError(new Error(raw), 'set');
      expect(mapped.code).toBe('E_CONNECTION');
      expect(mapped.context.kind).toBe('failover');
      expect(mapped.message).toMatch(/failed over/);
    }
  });
});
