/**
 * A master killed with SIGKILL while two instances run Cache writes and
 * reads (with memory tiers and the bus), lock acquire/release (with
 * `waitReplicas: 1`) and rate-limit calls, on a Cluster (three masters with a
 * replica each) and behind Sentinel (a master and a replica):
 *
 * - no error, and no Redis-down fallback, on keys of the masters that stayed up;
 * - on the dead master's keys only availability errors, until its replica is
 *   promoted; then they work again (the time is measured and annotated, with
 *   a generous bound: the README gives the numbers);
 * - no lock reported safe is granted again while its holder still had it;
 * - afterwards nothing stale: every instance reads the last value written.
 */

import { createLocks, createRateLimiter, type FencedLock } from '@stratacache/coordination';
import type { StrataRedis } from '@stratacache/core-client';
import { createInvalidationBus, type InvalidationBus } from '@stratacache/invalidation';
import {
  eventually,
  type RedisClusterHandle,
  type RedisSentinelHandle,
  startRedisCluster,
  startRedisSentinel,
} from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cache } from '../src/index.js';
import { cache, client, prefix, sleep } from './helpers.js';

const AVAILABILITY = ['E_CONNECTION', 'E_TIMEOUT', 'E_CIRCUIT_OPEN'];
const LOCK_TTL_MS = 30_000;

/** What a scenario needs from its topology. */
interface Target {
  /** A new client of the topology, on `prefix`. */
  connect(prefix: string): StrataRedis;
  /** Whether Redis key `key` lives on the master that will be killed. */
  onVictim(key: string): Promise<boolean>;
  /** Kills the master; resolves once the killed process is gone. */
  kill(): Promise<void>;
  /** Resolves `performance.now()` of the promotion of a replica. */
  promotion(): Promise<number>;
}

interface Hold {
  name: string;
  fence: number;
  safe: boolean;
  start: number;
  /**
   * How its release went: `released`, `not-held` (the lock was gone), `not-sent` (refused before it
   * reached Redis: the lock is certainly still there) or `unknown` (sent, no answer: it may have run).
   */
  release: 'released' | 'not-held' | 'not-sent' | 'unknown';
}

/** One instance of a service: its own connection, bus and memory tier. */
async function instance(redis: StrataRedis): Promise<Cache<{ v: number }> & { bus: InvalidationBus }> {
  const bus = createInvalidationBus(redis, { retryInterval: '100ms' });
  await bus.start();
  const c = cache<{ v: number }>({
    redis,
    bus,
    namespace: 'fo',
    memory: { maxEntries: 1000 },
    defaults: { ttl: '5m', throwErrors: true },
  });
  return Object.assign(c, { bus });
}

/** The Redis key of a limiter's state for `id`. */
function stateKey(limiter: ReturnType<typeof createRateLimiter>, id: string): string {
  return (limiter as unknown as { stateKeys(id: string): [string, string] }).stateKeys(id)[0];
}

/** Runs the load, kills the master, and checks everything the file comment says. */
async function failover(target: Target, annotate: (message: string) => unknown): Promise<void> {
  const p = prefix();
  const [ra, rb] = [target.connect(p), target.connect(p)];
  const [a, b] = await Promise.all([instance(ra), instance(rb)]);
  const locks = [ra, rb].map((r) => createLocks(r, { waitReplicas: 1, waitTimeout: '50ms' }));
  // The deadline (250 ms by default) bounds latency; this test is about errors spreading from the dead
  // shard, and a machine busy with other work can stall this process past 250 ms (seen once in a suite run
  // beside two busy loops). 2 s still catches a healthy shard's calls waiting on the failover (seconds).
  const limiter = createRateLimiter(ra, { limit: 1_000_000, window: '1m', name: 'fo', deadline: '2s' });
  const keys = Array.from({ length: 24 }, (_, i) => `k${i}`);
  const names = Array.from({ length: 12 }, (_, i) => `job${i}`);
  const ids = Array.from({ length: 12 }, (_, i) => `user${i}`);
  const victim = new Set<string>();
  const mark = async (id: string, redisKey: string) => {
    if (await target.onVictim(redisKey)) victim.add(id);
  };
  await Promise.all([
    ...keys.map((k) => mark(`cache:${k}`, `${p}:fo:e:${k}`)),
    ...names.map((n) => mark(`lock:${n}`, (locks[0] as ReturnType<typeof createLocks>).lockKey(n))),
    ...ids.map((id) => mark(`limit:${id}`, stateKey(limiter, id))),
  ]);

  const healthy: string[] = [];
  const onVictim = new Map<string, number>();
  const failed = (id: string, error: unknown) => {
    const code = (error as { code?: string }).code ?? String(error);
    if (victim.has(id)) onVictim.set(code, (onVictim.get(code) ?? 0) + 1);
    else healthy.push(`${id}: ${code} ${(error as Error).message}`);
  };
  let seq = 0;
  let killed = 0;
  const victimOks: number[] = [];
  const holds: Hold[] = [];
  let running = true;

  const cacheWorker = async (offset: number) => {
    for (let i = offset; running; i++) {
      const key = keys[i % keys.length] as string;
      try {
        await a.set(key, { v: ++seq });
        await b.get(key);
        if (killed && victim.has(`cache:${key}`)) victimOks.push(performance.now());
      } catch (error) {
        failed(`cache:${key}`, error);
        await sleep(2);
      }
    }
  };
  const lockWorker = async (w: number) => {
    for (let i = w; running; i++) {
      const name = names[i % names.length] as string;
      let lock: FencedLock | null = null;
      try {
        lock = await (locks[w % 2] as ReturnType<typeof createLocks>).acquire(name, { ttl: LOCK_TTL_MS });
      } catch (error) {
        failed(`lock:${name}`, error);
        await sleep(2);
        continue;
      }
      if (!lock) {
        await sleep(1);
        continue;
      }
      const hold: Hold = { name, fence: lock.fence, safe: lock.safe, start: performance.now(), release: 'unknown' };
      holds.push(hold);
      await sleep(1);
      try {
        hold.release = (await lock.release()) ? 'released' : 'not-held';
      } catch (error) {
        const context = (error as { context?: { sent?: boolean } }).context;
        hold.release =
          context?.sent === false || (error as { code?: string }).code === 'E_CIRCUIT_OPEN' ? 'not-sent' : 'unknown';
        failed(`lock:${name}`, error);
      }
    }
  };
  let slowestHealthyLimit = 0;
  const limitWorker = async () => {
    for (let i = 0; running; i++) {
      const id = ids[i % ids.length] as string;
      const start = performance.now();
      try {
        const { source } = await limiter.limit(id);
        if (!victim.has(`limit:${id}`)) slowestHealthyLimit = Math.max(slowestHealthyLimit, performance.now() - start);
        // The limiter never throws for an outage: it falls back, which on a healthy master is a failure too.
        if (source !== 'redis')
          failed(`limit:${id}`, { code: `fallback-${source}`, message: 'Redis-down policy used' });
      } catch (error) {
        failed(`limit:${id}`, error);
      }
      if (victim.has(`limit:${id}`)) await sleep(2);
    }
  };
  const workers = [
    ...Array.from({ length: 4 }, (_, i) => cacheWorker(i * 5)),
    ...Array.from({ length: 4 }, (_, i) => lockWorker(i)),
    limitWorker(),
  ];
  await sleep(400);
  killed = performance.now();
  await target.kill();
  const promotedAt = await target.promotion();
  await eventually(() => victimOks.some((t) => t > promotedAt), 30_000);
  await sleep(300);
  running = false;
  await Promise.all(workers);

  // 1. Healthy masters: no error, no fallback. The dead one: availability errors only.
  expect(healthy).toEqual([]);
  expect([...onVictim.keys()].filter((code) => !AVAILABILITY.includes(code) && !code.startsWith('fallback-'))).toEqual(
    [],
  );
  // 2. No lock reported safe was granted again while its holder still had it: its release never
  //    reached Redis (or found it gone), and its TTL had not run out. Per lock, fences only grow.
  for (const name of names) {
    const mine = holds.filter((h) => h.name === name).sort((x, y) => x.start - y.start);
    for (const [i, h] of mine.entries()) {
      const next = mine[i + 1];
      if (next) expect(next.fence, `${name} fences`).toBeGreaterThan(h.fence);
      if (!h.safe || h.release === 'released' || h.release === 'unknown') continue;
      const regranted = mine.filter((o) => o.start > h.start && o.start < h.start + LOCK_TTL_MS);
      expect(regranted, `${name} (release ${h.release}) was granted again`).toEqual([]);
    }
  }
  // 3. Nothing stale: a last write through A is what B and a fresh instance read, on every key.
  const fresh = await instance(target.connect(p));
  for (const key of keys) {
    const v = ++seq;
    await a.set(key, { v });
    await eventually(async () => (await b.get(key))?.v === v, 10_000);
    expect(await fresh.get(key)).toEqual({ v });
  }
  const recoveredMs = Math.round((victimOks.find((t) => t > promotedAt) as number) - promotedAt);
  annotate(
    `promotion ${Math.round(promotedAt - killed)} ms after the kill; the dead master's keys worked again ${recoveredMs} ms after it; on its keys ${[...onVictim].map(([c, n]) => `${n} ${c}`).join(', ') || 'no error'}; ${holds.length} locks held (${holds.filter((h) => !h.safe).length} reported unsafe); slowest rate-limit call on a healthy master ${Math.round(slowestHealthyLimit)} ms`,
  );
  expect(recoveredMs).toBeLessThan(10_000); // generous slack on a busy machine: see the README for what we measured
}

describe('a Cluster master killed under load', () => {
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    // With full coverage required (Redis's default) every master refuses commands from the moment the
    // dead one is marked failed until its replica is promoted: the outage is Redis's, on every shard.
    cluster = await startRedisCluster({ replicasPerMaster: 1, requireFullCoverage: false });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  const connect = (p: string) => client({ clusterNodes: [...cluster.seeds], prefix: p });

  it('1,000 sets on one instance: the other reports no gap and keeps a coherent memory tier', async () => {
    const p = prefix();
    const [ra, rb] = [connect(p), connect(p)];
    const [a, b] = await Promise.all([instance(ra), instance(rb)]);
    const gaps: unknown[] = [];
    b.bus.on('gap', (gap) => gaps.push(gap));
    for (let i = 0; i < 20; i++) await a.set(`k${i}`, { v: -1 });
    for (let i = 0; i < 20; i++) expect(await b.get(`k${i}`)).toEqual({ v: -1 }); // now in B's memory tier
    for (let i = 0; i < 1000; i++) await a.set(`k${i % 20}`, { v: i });
    for (let i = 0; i < 20; i++) await eventually(async () => (await b.get(`k${i}`))?.v === 980 + i);
    expect(gaps).toEqual([]);
  }, 60_000);

  it('fails only for its keys, recovers after the promotion, grants no safe lock twice, leaves nothing stale', async ({
    annotate,
  }) => {
    // The master carrying the bus channel too: the bus has to come back as well.
    const busChannel = connect(prefix()).pubsub('events').channelOf('invalidation');
    const victim = await cluster.masterOf(busChannel);
    await failover(
      {
        connect,
        onVictim: async (key) => (await cluster.masterOf(key)).port === victim.port,
        kill: () => victim.kill(),
        promotion: async () => (await cluster.waitForFailover(victim)).at,
      },
      annotate,
    );
  }, 120_000);
});

describe('a Sentinel master killed under load', () => {
  let group: RedisSentinelHandle;
  beforeAll(async () => {
    group = await startRedisSentinel({ name: 'patterns-fo', replicas: 1 });
  }, 60_000);
  afterAll(async () => {
    await group?.stop();
  });

  it('recovers after the promotion, grants no safe lock twice, leaves nothing stale', async ({ annotate }) => {
    await failover(
      {
        connect: (p) => client({ sentinels: [...group.sentinels], sentinelName: 'patterns-fo', prefix: p }),
        onVictim: async () => true,
        kill: () => group.master.kill(),
        promotion: async () => (await group.waitForFailover(group.master)).at,
      },
      annotate,
    );
  }, 120_000);
});
