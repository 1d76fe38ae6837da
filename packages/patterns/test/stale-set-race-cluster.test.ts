/**
 * The stale-set race on a three-master Redis Cluster: tags are lazy there,
 * and the namespace and tag markers live in other slots than the entries,
 * so the write-back reads them right after writing and takes the write back
 * when one is as recent as the load. Same rounds as on standalone.
 */
import { createRedis, type StrataRedis } from '@stratacache/core-client';
import { eventually, type RedisClusterHandle, startRedisCluster } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefix } from './helpers.js';
import { type RaceEnv, raceEnv, raceRound, randomizedRounds, VERBS } from './race-harness.js';

const ROUNDS = Number(process.env.RACE_ROUNDS ?? 1000);
/** New interleavings every run (replay one with RACE_SEED). */
const SEED = Number(process.env.RACE_SEED ?? Math.floor(Math.random() * 1e9));

let cluster: RedisClusterHandle;
let env: RaceEnv;
const clients: StrataRedis[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
  const p = prefix();
  const connect = () => {
    const redis = createRedis({ env: { REDIS_CLUSTER_NODES: cluster.nodesEnv }, prefix: p, commandTimeout: '5s' });
    clients.push(redis);
    return redis;
  };
  await eventually(
    async () =>
      (await connect()
        .client.ping()
        .catch(() => '')) === 'PONG',
  );
  env = await raceEnv(connect);
}, 60_000);

afterAll(async () => {
  await env?.close();
  await Promise.all(clients.map((c) => c.close()));
  await cluster?.stop();
});

describe('on Redis Cluster', () => {
  it.each(VERBS)('%s after the load read the source: no stale value (forced)', async (verb) => {
    const result = await raceRound(env, verb, `forced-${verb}`, { kind: 'timer', ms: 60 }, { kind: 'sync' });
    expect(result).toMatchObject({ stale: false });
    if (verb === 'set' || verb === 'write' || verb === 'second-loader') expect(result.seen).toBe('new');
  });

  it.each(VERBS)(
    `%s: ${ROUNDS} randomized interleavings leave no stale value`,
    async (verb) => {
      expect(await randomizedRounds(env, verb, ROUNDS, SEED), `RACE_SEED=${SEED}`).toEqual([]);
    },
    180_000,
  );
});
