/**
 * The Kafka source against a real Kafka-protocol broker (librdkafka's mock
 * cluster through kcat): a 4-partition topic, an aggregator process killed and
 * restarted, and the final aggregates equal an offline recomputation per
 * partition; commits follow the Redis writes; backpressure pauses the consumer.
 */
import { randomBytes } from 'node:crypto';
import { createRedis, type StrataRedis } from '@stratacache/core-client';
import { eventually, testRedisUrl, type Worker } from '@stratacache/test-utils';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createWindowAggregator, type WindowSpec } from '../src/index.js';
import { KafkaSource } from '../src/kafka.js';
import { comparable, offline, random, sleep, sorted, type TestEvent } from './helpers.js';
import { type KafkaMock, startKafkaMock } from './kafka-mock.js';
import { startWorker } from './processes.js';

let mock: KafkaMock;
let kafka: Kafka;
const opened: StrataRedis[] = [];

beforeAll(async () => {
  mock = await startKafkaMock();
  kafka = new Kafka({ clientId: 'test', brokers: [mock.bootstrap], logLevel: logLevel.NOTHING });
});
afterAll(async () => {
  for (const redis of opened) await redis.unlinkMatching(`${redis.options.prefix}:*`).catch(() => 0);
  await Promise.all(opened.map((r) => r.close()));
  await mock?.stop();
});

const windows: WindowSpec[] = [
  { name: 'tight', size: '10s', grace: '2s', retention: '1h', fields: ['amount'], dimensions: ['country'] },
];

/** Events for each of 4 partitions, each mostly in order with records up to 4 s behind. */
function partitionEvents(perPartition: number, seed: number): TestEvent[][] {
  const rand = random(seed);
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000;
  return [0, 1, 2, 3].map(() =>
    Array.from({ length: perPartition }, (_, i) => ({
      time: t0 + i * 200 - Math.floor(rand() * 4000),
      amount: Math.floor(rand() * 100),
      country: ['de', 'fr', 'us'][Math.floor(rand() * 3)] as string,
    })),
  );
}

async function produceTo(topic: string, partitions: TestEvent[][]): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  // The mock creates the topic with 4 partitions on first use.
  await producer.send({ topic, messages: [{ value: 'warm-up, not JSON: counted invalid', partition: 0 }] });
  for (let i = 0; i < (partitions[0]?.length ?? 0); i += 250) {
    await producer.send({
      topic,
      messages: partitions.flatMap((events, partition) =>
        events.slice(i, i + 250).map((event) => ({ partition, value: JSON.stringify(event) })),
      ),
    });
  }
  await producer.disconnect();
}

function redisClient(): StrataRedis {
  const redis = createRedis({ url: testRedisUrl(), env: {}, prefix: `t-${randomBytes(5).toString('hex')}` });
  opened.push(redis);
  return redis;
}

/** Kafka's committed offset (the next record to read) per partition of `topic`. */
async function kafkaCommitted(groupId: string, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  return new Map((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
}

async function exited(worker: Worker, ms: number): Promise<void> {
  const gone = new Promise<void>((resolve) => {
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) resolve();
    else worker.child.once('exit', () => resolve());
  });
  await Promise.race([gone, sleep(ms)]);
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  await gone;
}

test('a 4-partition topic, the consumer killed and restarted: aggregates equal an offline recomputation', async () => {
  const topic = `t-${randomBytes(4).toString('hex')}`;
  const groupId = `g-${topic}`;
  const data = partitionEvents(1500, 3);
  await produceTo(topic, data);
  const admin = kafka.admin();
  await admin.connect();
  expect(await admin.fetchTopicOffsets(topic)).toHaveLength(4);
  await admin.disconnect();

  const redis = redisClient();
  const args = {
    url: testRedisUrl(),
    prefix: redis.options.prefix,
    brokers: [mock.bootstrap],
    topic,
    groupId,
    windows,
  };
  // The last crash comes after the scripts and before the commit.
  const crashes = [
    { kind: 'after-commit', at: 2 },
    { kind: 'after-script', at: 3 },
    { kind: 'in-commit', at: 4 },
  ];
  for (const crash of crashes) {
    const worker = startWorker('kafka', { ...args, crash });
    await exited(worker, 40_000);
    expect(worker.child.signalCode).toBe('SIGKILL');
  }

  // A crash between the scripts and the commit left Kafka's committed offsets behind what Redis applied.
  const committed = await kafkaCommitted(groupId, topic);
  const stored = await redis.client.hgetall(`${redis.options.prefix}:streams:win:{tight}:off`);
  const ahead = [0, 1, 2, 3].filter((p) => Number(stored[`o:${topic}/${p}`] ?? -1) + 1 > (committed.get(p) ?? 0));
  expect(ahead.length).toBeGreaterThan(0);

  const source = new KafkaSource({
    kafka,
    groupId,
    topics: [topic],
    consumer: { sessionTimeout: 2500, heartbeatInterval: 250, rebalanceTimeout: 2500, maxWaitTimeInMs: 100 },
  });
  const aggregator = createWindowAggregator({ redis, source, windows, batch: { max: 500, linger: 0 } });
  await aggregator.start();
  await eventually(async () => (await source.lag()).every((p) => p.lag === 0), 60_000);
  await eventually(() => aggregator.stats().queue.depth === 0, 10_000);
  const expected = offline(data, { sizeMs: 10_000, graceMs: 2000 });
  expect(expected.dropped).toBeGreaterThan(0);
  const windowsStored = comparable(await aggregator.recent('tight', { since: 0 }));
  expect(sorted(windowsStored)).toEqual(
    sorted(new Map([...expected.windows].map(([k, v]) => [k, { ...v, users: 0 }]))),
  );
  // Kafka's committed offsets are past the last record of every partition.
  expect(source.status()).toMatchObject({ connected: true, assigned: 4 });
  await aggregator.stop();
}, 150_000);

test('backpressure: with Redis stopped the consumer pauses at the high-water mark and resumes after', async () => {
  const topic = `t-${randomBytes(4).toString('hex')}`;
  const data = partitionEvents(1000, 9);
  await produceTo(topic, data);
  const { startRedisServer } = await import('@stratacache/test-utils');
  const aggregatesRedis = await startRedisServer();
  const redis = createRedis({
    url: aggregatesRedis.url,
    env: {},
    prefix: 'bp',
    commandTimeout: '300ms',
    breaker: { failureThreshold: 5, window: '10s', openDuration: '300ms' },
  });
  opened.push(redis);
  const source = new KafkaSource({
    kafka,
    groupId: `g-${topic}`,
    topics: [topic],
    consumer: { sessionTimeout: 6000, heartbeatInterval: 300, maxWaitTimeInMs: 100 },
  });
  const aggregator = createWindowAggregator({
    redis,
    source,
    windows,
    queue: { max: 600, highWater: 400, lowWater: 100 },
    batch: { max: 100, linger: 0 },
    retry: { baseDelay: '20ms', maxDelay: '200ms' },
  });
  aggregatesRedis.pause();
  try {
    await aggregator.start();
    await eventually(() => source.status().paused, 30_000);
    let deepest = 0;
    for (let i = 0; i < 20; i++) {
      deepest = Math.max(deepest, aggregator.stats().queue.depth);
      await sleep(50);
    }
    // Bounded: at most max plus one delivery that came in while the queue was empty.
    expect(deepest).toBeGreaterThanOrEqual(400);
    expect(deepest).toBeLessThanOrEqual(600);
    expect(aggregator.stats().batches).toBe(0);
  } finally {
    aggregatesRedis.resume();
  }
  await eventually(async () => (await source.lag()).every((p) => p.lag === 0), 60_000);

  await eventually(() => aggregator.stats().queue.depth === 0, 10_000);
  expect(source.status().paused).toBe(false);
  const { totals } = aggregator.stats();
  expect(totals.records - totals.duplicate).toBe(4001);
  const expected = offline(data, { sizeMs: 10_000, graceMs: 2000 });
  expect(sorted(comparable(await aggregator.recent('tight', { since: 0 })))).toEqual(
    sorted(new Map([...expected.windows].map(([k, v]) => [k, { ...v, users: 0 }]))),
  );
  await aggregator.stop();
  await aggregatesRedis.stop();
}, 120_000);
