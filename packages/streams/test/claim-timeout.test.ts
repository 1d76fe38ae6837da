/**
 * Claiming a stopped consumer's pending entries must apply them in stream
 * order under its partition, however the claims interleave. An XCLAIM resets
 * the idle time of what it took even when its reply is lost (a timeout while
 * Redis is stalled, here with SIGSTOP, and Redis runs it later), and a second
 * claimer's XCLAIM resets it too: in both cases the owner's *later* entries
 * are the idle ones at the next claim. Applied first, they move the
 * partition's offset past the earlier ones, which are then taken for replays
 * (acknowledged, never counted). Both interleavings are forced here, and a
 * claim by another consumer between this one's XPENDING and XCLAIM, and the
 * aggregates compared with an offline recomputation.
 */
import { createRedis, type StrataRedis } from '@stratacache/core-client';
import { eventually } from '@stratacache/test-utils';
import { expect, test } from 'vitest';
import { createWindowAggregator, RedisStreamSource, type WindowAggregator, type WindowSpec } from '../src/index.js';
import {
  client,
  comparable,
  offline,
  produce,
  random,
  server,
  sleep,
  sorted,
  streamKey,
  type TestEvent,
  track,
} from './helpers.js';

const windows: WindowSpec[] = [
  // A tight grace, where the order of application decides what is dropped, and a wide one that keeps all.
  { name: 'tight', size: '10s', grace: '2s', retention: '1h', fields: ['amount'] },
  { name: 'wide', size: '10s', grace: '1h', retention: '1h', fields: ['amount'] },
];

function events(count: number, seed: number): TestEvent[] {
  const rand = random(seed);
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
  // Out of order by up to 4 s, so the tight series drops some records, and which depends on the order.
  return Array.from({ length: count }, (_, i) => ({ time: t0 + i * 50 - Math.floor(rand() * 4000), amount: i % 10 }));
}

/** Writes `data` and hands all of it to consumer `dead` of group `g`, which never acknowledges. */
async function pendingOfDeadConsumer(redis: StrataRedis, stream: string, data: TestEvent[]): Promise<void> {
  await redis.client.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
  await produce(redis, stream, data);
  await redis.client.xreadgroup('GROUP', 'g', 'dead', 'COUNT', data.length, 'STREAMS', stream, '>');
}

function source(redis: StrataRedis, stream: string, consumer: string): RedisStreamSource {
  return new RedisStreamSource({
    redis,
    stream,
    group: 'g',
    consumer,
    readCount: 100,
    block: '100ms',
    claimIdle: '500ms',
    claimInterval: '50ms',
    retry: { baseDelay: '20ms', maxDelay: '100ms' },
  });
}

function aggregator(redis: StrataRedis, from: RedisStreamSource): WindowAggregator {
  return track(
    createWindowAggregator({
      redis,
      source: from,
      windows,
      batch: { max: 100, linger: 0 },
      retry: { baseDelay: '20ms', maxDelay: '100ms' },
    }),
  );
}

/** Records a series applied, dropped or found invalid: every record delivered to it, less the replays. */
const used = (a: WindowAggregator, series = 'wide') => {
  const w = a.stats().windows[series];
  return w ? w.records - w.duplicate : 0;
};

async function expectOffline(reader: WindowAggregator, data: TestEvent[]): Promise<void> {
  for (const spec of windows) {
    const expected = offline([data], { sizeMs: 10_000, graceMs: spec.name === 'tight' ? 2000 : 3_600_000 });
    const stored = comparable(await reader.recent(spec.name, { since: 0 }));
    expect(sorted(stored), spec.name).toEqual(
      sorted(new Map([...expected.windows].map(([k, v]) => [k, { ...v, byCountry: {}, users: 0 }]))),
    );
  }
}

test('a claim that times out after Redis ran it: its entries are applied, in order, before the later ones', async () => {
  const streamsServer = await server();
  // No breaker: once open (5 s) it would outlast `claimIdle` and hide the interleaving.
  const streams = createRedis({
    url: streamsServer.url,
    env: {},
    prefix: 'ct',
    commandTimeout: '200ms',
    breaker: false,
  });
  const aggregates = client();
  const stream = 'ct:stream:events';
  const data = events(1000, 11);
  await pendingOfDeadConsumer(streams, stream, data);
  await sleep(600);

  // The second XCLAIM goes to a stopped Redis: it times out (200 ms) and Redis runs it, and every
  // command queued behind it, once it continues 1 s later. Its reply is lost; its entries' idle
  // time is reset, so at the next claim the dead consumer's *later* entries are the idle ones.
  const run = streams.run.bind(streams);
  let claims = 0;
  streams.run = ((command, fn, options) => {
    if (command === 'xclaim' && ++claims === 2) {
      streamsServer.pause();
      setTimeout(() => streamsServer.resume(), 1000);
    }
    return run(command, fn, options);
  }) as typeof streams.run;

  const c = source(streams, stream, 'c');
  const a = aggregator(aggregates, c);
  await a.start();
  const done = async () => (await c.lag().catch(() => undefined))?.[0]?.lag === 0 && a.stats().queue.depth === 0;
  await eventually(done, 20_000);
  const stats = a.stats();
  await a.stop();
  // The interleaving did happen: the stalled claim failed.
  expect(claims).toBeGreaterThan(2);
  expect(stats.failures.read ?? 0).toBeGreaterThan(0);

  await expectOffline(a, data);
  // Every entry was used once by each series: none was taken for a replay before it had been applied.
  for (const spec of windows) expect(used(a, spec.name), spec.name).toBe(data.length);
  await streams.close();
}, 60_000);

test('two consumers claiming the same stopped consumer: its entries are applied in order', async () => {
  const redis = client();
  const stream = streamKey(redis);
  const data = events(1000, 12);
  await pendingOfDeadConsumer(redis, stream, data);
  await sleep(600);

  const c1 = source(redis, stream, 'c1');
  const c2 = source(redis, stream, 'c2');
  const dead = c1.partitionOf(stream, 'dead').id;
  const a1 = aggregator(redis, c1);
  const a2 = aggregator(redis, c2);
  // c1 claims the first entries and is then slow to queue them (a full queue makes a delivery wait
  // just so): it holds them until c2 has applied something of the same partition (or 5 s pass).
  let held = false;
  let c1Claimed!: () => void;
  const claimedByC1 = new Promise<void>((resolve) => {
    c1Claimed = resolve;
  });
  const start = c1.start.bind(c1);
  c1.start = (handlers) =>
    start({
      ...handlers,
      deliver: async (batch) => {
        if (batch.partition.id === dead && !held) {
          held = true;
          c1Claimed();
          await eventually(() => used(a2) > 0, 5000).catch(() => {});
        }
        return handlers.deliver(batch);
      },
    });
  await a1.start();
  await claimedByC1;
  await a2.start();

  const done = async () =>
    (await c1.lag().catch(() => undefined))?.[0]?.lag === 0 &&
    a1.stats().queue.depth === 0 &&
    a2.stats().queue.depth === 0;
  await eventually(done, 20_000);
  await Promise.all([a1.stop(), a2.stop()]);
  // The interleaving did happen: c2 applied entries of the partition while c1 held its claim.
  expect(used(a2)).toBeGreaterThan(0);

  await expectOffline(a1, data);
  for (const spec of windows) expect(used(a1, spec.name) + used(a2, spec.name), spec.name).toBe(data.length);
}, 60_000);

test('entries another consumer claims between the XPENDING and the XCLAIM are not skipped', async () => {
  const redis = client();
  const stream = streamKey(redis);
  const data = events(1000, 13);
  await pendingOfDeadConsumer(redis, stream, data);
  await sleep(600);

  // Right before the first XCLAIM, "another consumer" claims the 50 oldest entries (and then stops,
  // so they are claimed again once idle): this XCLAIM gets only the 50 after them.
  const run = redis.run.bind(redis);
  let claims = 0;
  redis.run = (async (command, fn, options) => {
    if (command === 'xclaim' && ++claims === 1) {
      const rows = (await redis.client.call('XPENDING', stream, 'g', '-', '+', 50, 'dead')) as [string][];
      await redis.client.call('XCLAIM', stream, 'g', 'dead', 0, ...rows.map((row) => row[0]), 'JUSTID');
    }
    return run(command, fn, options);
  }) as typeof redis.run;

  const c = source(redis, stream, 'c');
  const a = aggregator(redis, c);
  await a.start();
  const done = async () => (await c.lag().catch(() => undefined))?.[0]?.lag === 0 && a.stats().queue.depth === 0;
  await eventually(done, 20_000);
  await a.stop();
  expect(claims).toBeGreaterThan(1);

  await expectOffline(a, data);
  for (const spec of windows) expect(used(a, spec.name), spec.name).toBe(data.length);
}, 60_000);
