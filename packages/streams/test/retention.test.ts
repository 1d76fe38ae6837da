/** Retention: windows past it leave Redis and the index; records for them are counted dropped. */
import { eventually } from '@stratacache/test-utils';
import { expect, test } from 'vitest';
import { createWindowAggregator, RedisStreamSource } from '../src/index.js';
import { allKeys, client, produce, sleep, streamKey, track } from './helpers.js';

test('windows past retention are gone from Redis and from the index; later records for them are dropped', async () => {
  const redis = client();
  const stream = streamKey(redis);
  const source = new RedisStreamSource({ redis, stream, group: 'g', consumer: 'c', block: '100ms' });
  const aggregator = track(
    createWindowAggregator({
      redis,
      source,
      windows: [{ name: 'short', size: '1s', grace: 0, retention: '1s', distinct: ['user'] }],
      batch: { max: 100, linger: 0 },
    }),
  );
  await aggregator.start();
  const first = Math.floor(Date.now() / 1000) * 1000;
  await produce(redis, stream, [{ time: first + 10, user: 'a' }]);
  await eventually(async () => (await aggregator.window('short', first))?.count === 1, 10_000);
  const windowKeys = (await allKeys(redis)).filter((k) => k.includes(`:w:${first}`) || k.includes(`:hll:${first}`));
  expect(windowKeys).toHaveLength(2);
  for (const key of windowKeys) expect(await redis.client.pttl(key)).toBeGreaterThan(0);

  // The window ends at first + 1s and is kept 1s more.
  await sleep(Math.max(0, first + 2000 - Date.now()) + 200);
  for (const key of windowKeys) expect(await redis.client.exists(key)).toBe(0);
  expect(await aggregator.window('short', first)).toBeUndefined();
  expect(await aggregator.recent('short', { count: 10 })).toEqual([]);

  // A later batch trims the index; a record for the expired window counts as dropped.
  const now = Date.now();
  await produce(redis, stream, [
    { time: now, user: 'b' },
    { time: first + 20, user: 'c' },
  ]);
  await eventually(() => aggregator.stats().totals.records === 3, 10_000);
  expect(aggregator.stats().totals).toMatchObject({ applied: 2, dropped: 1 });
  const index = await redis.client.zrange(`${redis.options.prefix}:streams:win:{short}:idx`, '0', '-1');
  expect(index).toEqual([String(Math.floor(now / 1000) * 1000)]);
  await aggregator.stop();
});
