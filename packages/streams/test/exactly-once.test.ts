/**
 * Exactly once in effect, across real process crashes: an aggregator process
 * is SIGKILLed at randomized points (after a series' script and before the
 * XACK, inside the commit, just after it, or at a random moment), Redis is
 * SIGSTOPped mid-batch so a write times out after it was applied, and the
 * restarted consumers' final aggregates equal an offline recomputation.
 */
import { randomBytes } from 'node:crypto';
import { createRedis, type StrataRedis } from '@stratacache/core-client';
import { eventually, type Worker } from '@stratacache/test-utils';
import { afterAll, expect, test } from 'vitest';
import { createWindowAggregator, RedisStreamSource, type WindowSpec } from '../src/index.js';
import { comparable, offline, produce, random, server, sleep, sorted, type TestEvent } from './helpers.js';
import { startWorker } from './processes.js';

const SECOND = 1000;
const opened: StrataRedis[] = [];
afterAll(async () => {
  await Promise.all(opened.map((r) => r.close()));
});

/** Two series: a tight grace (drops depend on order, so replays must not change them) and a hopping one. */
const windows: WindowSpec[] = [
  { name: 'tight', size: '10s', grace: '2s', retention: '1h', fields: ['amount'], dimensions: ['country'] },
  { name: 'hop', size: '30s', hop: '10s', grace: '1h', retention: '2h', fields: ['amount'] },
];

function events(count: number, seed: number): TestEvent[] {
  const rand = random(seed);
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
  return Array.from({ length: count }, (_, i) => ({
    time: t0 + i * 50 - Math.floor(rand() * 4000),
    amount: Math.floor(rand() * 100),
    country: ['de', 'fr', 'us'][Math.floor(rand() * 3)] as string,
  }));
}

async function expectExact(redis: StrataRedis, data: TestEvent[], partitions: TestEvent[][] = [data]): Promise<void> {
  const reader = createWindowAggregator({
    redis,
    source: new RedisStreamSource({ redis, stream: 'unused', group: 'unused' }),
    windows,
  });
  const tight = offline(partitions, { sizeMs: 10 * SECOND, graceMs: 2 * SECOND });
  const hop = offline(partitions, { sizeMs: 30 * SECOND, hopMs: 10 * SECOND, graceMs: 3_600_000 });
  const strip = (m: Map<number, ReturnType<typeof comparable> extends Map<number, infer V> ? V : never>) =>
    new Map([...m].map(([k, v]) => [k, { count: v.count, sum: v.sum, min: v.min, max: v.max }]));
  const storedTight = comparable(await reader.recent('tight', { since: 0 }));
  expect(sorted(storedTight)).toEqual(sorted(new Map([...tight.windows].map(([k, v]) => [k, { ...v, users: 0 }]))));
  expect(tight.dropped).toBeGreaterThan(0);
  expect(sorted(strip(comparable(await reader.recent('hop', { since: 0 }))))).toEqual(sorted(strip(hop.windows)));
  expect(hop.dropped).toBe(0);
}

/**
 * Waits for the worker to exit; kills it if it is still running after `ms` (its crash point never
 * came). Resolves whether it had ended by itself.
 */
async function exited(worker: Worker, ms: number): Promise<boolean> {
  const gone = new Promise<void>((resolve) => {
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) resolve();
    else worker.child.once('exit', () => resolve());
  });
  await Promise.race([gone, sleep(ms)]);
  const ended = worker.child.exitCode !== null || worker.child.signalCode !== null;
  if (!ended) worker.child.kill('SIGKILL');
  await gone;
  return ended;
}

async function drain(redis: StrataRedis, stream: string, consumer: string): Promise<void> {
  const source = new RedisStreamSource({
    redis,
    stream,
    group: 'g',
    consumer,
    block: '100ms',
    claimIdle: '300ms',
    claimInterval: '100ms',
  });
  const aggregator = createWindowAggregator({ redis, source, windows, batch: { max: 500, linger: 0 } });
  await aggregator.start();
  await eventually(
    async () => (await source.lag()).every((l) => l.lag === 0) && aggregator.stats().queue.depth === 0,
    60_000,
  );
  await aggregator.stop();
}

test('24 SIGKILLs at random points and a Redis stopped mid-batch: the aggregates equal an offline recomputation', async () => {
  const redisServer = await server();
  const prefix = `t-${randomBytes(5).toString('hex')}`;
  const redis = createRedis({ url: redisServer.url, env: {}, prefix });
  opened.push(redis);
  const stream = `${prefix}:stream:events`;
  const data = events(30_000, 11);
  await produce(redis, stream, data);

  const rand = random(2024);
  const kinds = ['after-script', 'in-commit', 'after-commit', 'timer'] as const;
  const crashes: string[] = [];
  const args = {
    url: redisServer.url,
    prefix,
    stream,
    group: 'g',
    consumer: 'c1',
    windows,
    batchMax: 100,
    readCount: 100,
  };
  for (let round = 0; round < 24; round++) {
    const kind = kinds[Math.floor(rand() * kinds.length)] as (typeof kinds)[number];
    const at = 1 + Math.floor(rand() * 4);
    const worker = startWorker('redis', { ...args, crash: kind === 'timer' ? undefined : { kind, at } });
    if (kind === 'timer') {
      // Reading starts as the worker reports it started: a few tens of ms land among its first batches.
      await worker.next((e) => e.started === true, 30_000);
      await sleep(rand() * 40);
      worker.child.kill('SIGKILL');
    }
    // A crash point that never comes (no work left) would be a bad test: count it apart.
    const reached = await exited(worker, 10_000);
    crashes.push(`${kind}@${at}:${reached ? worker.child.signalCode : 'never reached'}`);
  }
  expect(crashes.filter((c) => c.endsWith(':SIGKILL'))).toHaveLength(24);
  expect(new Set(crashes.map((c) => c.split('@')[0])).size).toBe(kinds.length);
  // Work is left: the crashes happened mid-stream, not after it was done.
  const [left] = await new RedisStreamSource({ redis, stream, group: 'g' }).lag();
  expect(left?.lag).toBeGreaterThan(0);

  // Redis is stopped (SIGSTOP) just as a worker sends a script: the call times out (500 ms) and is retried,
  // Redis applies the first call when it continues (SIGCONT), and the retry must be recognised, not applied twice.
  const pid = redisServer.pid as number;
  const worker = startWorker('redis', { ...args, stopRedis: { pid, at: 3, ms: 1500 } });
  await worker.next((e) => e.stopped === true, 30_000);
  const after = worker.events.length;
  const next = await worker.next((e) => worker.events.indexOf(e) > after && typeof e.batch === 'number', 30_000);
  worker.child.kill('SIGKILL');
  await exited(worker, 5000);
  redisServer.resume();
  const replayed = (next.stats as { replayedBatches: number }).replayedBatches;
  await drain(redis, stream, 'c1');
  await expectExact(redis, data);
  // At least one write timed out after Redis had applied it, and its retry was recognised.
  expect(replayed).toBeGreaterThan(0);
}, 150_000);

test('a consumer that never comes back: another one claims its pending entries under its partition', async () => {
  const redisServer = await server();
  const prefix = `t-${randomBytes(5).toString('hex')}`;
  const redis = createRedis({ url: redisServer.url, env: {}, prefix });
  opened.push(redis);
  const stream = `${prefix}:stream:events`;
  const data = events(3000, 5);
  await produce(redis, stream, data);
  // c1 reads ahead (300 at a time) and dies inside its second commit: applied, not acknowledged.
  const worker = startWorker('redis', {
    url: redisServer.url,
    prefix,
    stream,
    group: 'g',
    consumer: 'c1',
    windows,
    batchMax: 100,
    readCount: 300,
    crash: { kind: 'in-commit', at: 2 },
  });
  await exited(worker, 30_000);
  expect(worker.child.signalCode).toBe('SIGKILL');
  const pendingOfC1 = async () =>
    ((await redis.client.xpending(stream, 'g', '-', '+', 1000, 'c1')) as unknown[]).length;
  expect(await pendingOfC1()).toBeGreaterThan(0);

  await drain(redis, stream, 'c2');
  expect(await pendingOfC1()).toBe(0);
  // Both partitions have stored offsets: c1's entries were applied as c1's, new ones as c2's.
  const offsets = await redis.client.hkeys(`${prefix}:streams:win:{hop}:off`);
  expect(offsets).toEqual(expect.arrayContaining([`o:${stream}|c1`, `o:${stream}|c2`]));
  // Which entries each consumer got depends on timing, so only the wide-grace series is exact here.
  const reader = createWindowAggregator({
    redis,
    source: new RedisStreamSource({ redis, stream, group: 'x' }),
    windows,
  });
  const hop = offline([data], { sizeMs: 30 * SECOND, hopMs: 10 * SECOND, graceMs: 3_600_000 });
  const stored = comparable(await reader.recent('hop', { since: 0 }));
  expect(sorted(new Map([...stored].map(([k, v]) => [k, [v.count, v.sum]])))).toEqual(
    sorted(new Map([...hop.windows].map(([k, v]) => [k, [v.count, v.sum]]))),
  );
}, 60_000);
