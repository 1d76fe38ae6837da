/**
 * Backpressure: when the aggregates' Redis stops answering, the queue fills
 * to its high-water mark, the source stops reading (entries stay in the
 * stream, not in memory), and everything is applied exactly once after.
 */
import { createRedis } from '@stratacache/core-client';
import { eventually } from '@stratacache/test-utils';
import { expect, test } from 'vitest';
import { createWindowAggregator, RedisStreamSource } from '../src/index.js';
import {
  client,
  comparable,
  offline,
  produce,
  server,
  sleep,
  sorted,
  streamKey,
  type TestEvent,
  track,
} from './helpers.js';

test('with the aggregates Redis stopped, the consumer pauses at the high-water mark, memory stays bounded, and it resumes', async () => {
  const streams = client();
  const stream = streamKey(streams);
  const t0 = Date.now() - 600_000;
  const events: TestEvent[] = Array.from({ length: 20_000 }, (_, i) => ({ time: t0 + i * 10, amount: i % 10 }));

  const aggregatesServer = await server();
  const aggregates = createRedis({
    url: aggregatesServer.url,
    env: {},
    prefix: 'bp',
    commandTimeout: '300ms',
    breaker: { failureThreshold: 5, window: '10s', openDuration: '300ms' },
  });
  const source = new RedisStreamSource({
    redis: streams,
    stream,
    group: 'g',
    consumer: 'c',
    readCount: 200,
    block: '100ms',
  });
  const aggregator = track(
    createWindowAggregator({
      redis: aggregates,
      source,
      windows: [{ name: 'w', size: '1m', grace: '1s', retention: '1h', fields: ['amount'] }],
      queue: { max: 1000, highWater: 800, lowWater: 200 },
      batch: { max: 100, linger: 0 },
      retry: { baseDelay: '20ms', maxDelay: '200ms' },
    }),
  );
  const paused: boolean[] = [];
  await aggregator.start();
  await eventually(() => source.status().connected, 10_000);
  aggregatesServer.pause();
  try {
    await produce(streams, stream, events);
    await eventually(() => source.status().paused, 20_000);
    let deepest = 0;
    for (let i = 0; i < 20; i++) {
      deepest = Math.max(deepest, aggregator.stats().queue.depth);
      paused.push(source.status().paused);
      await sleep(50);
    }
    expect(deepest).toBeGreaterThanOrEqual(800);
    expect(deepest).toBeLessThanOrEqual(1000);
    expect(paused.every(Boolean)).toBe(true);
    // The rest waits in the stream: read at most max + one read, never all 20,000.
    const [lag] = await source.lag();
    expect(lag?.lag).toBeGreaterThanOrEqual(20_000 - 1200);
    expect(aggregator.stats().batches).toBe(0);
    expect(aggregator.stats().failures.apply ?? 0).toBeGreaterThan(0);
  } finally {
    aggregatesServer.resume();
  }
  await eventually(async () => (await source.lag())[0]?.lag === 0, 60_000);
  await eventually(() => aggregator.stats().queue.depth === 0, 10_000);
  expect(source.status().paused).toBe(false);
  const expected = offline([events], { sizeMs: 60_000, graceMs: 1000 });
  const stored = comparable(await aggregator.recent('w', { since: 0 }));
  expect(sorted(stored)).toEqual(
    sorted(new Map([...expected.windows].map(([k, v]) => [k, { ...v, byCountry: {}, users: 0 }]))),
  );
  await aggregator.stop();
  await aggregates.close();
}, 90_000);
