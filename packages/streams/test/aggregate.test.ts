/**
 * Aggregates from a real Redis Stream equal an independent offline
 * recomputation: tumbling and hopping windows, breakdowns, distinct counts,
 * out-of-order and late records, final updates, replays.
 */
import { eventually } from '@stratacache/test-utils';
import { describe, expect, test } from 'vitest';
import { createWindowAggregator, RedisStreamSource, type WindowSpec, type WindowUpdate } from '../src/index.js';
import { client, comparable, offline, produce, random, sorted, streamKey, type TestEvent, track } from './helpers.js';

const MINUTE = 60_000;
/** A minute boundary ten minutes ago: event times near now, so a one-hour retention keeps everything. */
const base = () => Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;

function setup(windows: WindowSpec[], options: { group?: string } = {}) {
  const redis = client();
  const stream = streamKey(redis);
  const source = new RedisStreamSource({ redis, stream, group: options.group ?? 'g', consumer: 'c1', block: '200ms' });
  const aggregator = track(createWindowAggregator({ redis, source, windows, batch: { max: 500, linger: 0 } }));
  return { redis, stream, source, aggregator };
}

describe('windows from a Redis Stream', () => {
  test('tumbling windows: count, sum, min, max, a breakdown and distinct counts equal an offline recomputation', async () => {
    const t0 = base();
    const rand = random(7);
    const countries = ['de', 'fr', 'us', 'a:b{c}%'];
    // Mostly in order; records up to 8 s behind, so some are within the 5 s grace and some beyond.
    const events: TestEvent[] = Array.from({ length: 3000 }, (_, i) => ({
      time: t0 + Math.floor(i * 100 - rand() * 8000),
      amount: Math.floor(rand() * 1000),
      country: countries[Math.floor(rand() * countries.length)],
      user: `u${Math.floor(rand() * 300)}`,
    }));
    const spec: WindowSpec = {
      name: 'orders',
      size: '1m',
      grace: '5s',
      retention: '1h',
      fields: ['amount'],
      dimensions: ['country'],
      distinct: ['user'],
    };
    const { redis, stream, aggregator } = setup([spec]);
    await produce(redis, stream, events);
    await aggregator.start();
    await eventually(() => aggregator.stats().totals.records === events.length, 30_000);

    const expected = offline([events], { sizeMs: MINUTE, graceMs: 5000 });
    const stored = await aggregator.recent('orders', { count: 100 });
    const got = comparable(stored);
    // HyperLogLog estimates: within 3% of the exact count; everything else exact.
    for (const [start, want] of expected.windows) {
      const have = got.get(start);
      expect(have?.users).toBeGreaterThan(want.users * 0.97);
      expect(have?.users).toBeLessThan(want.users * 1.03);
      if (have) have.users = want.users;
    }
    expect(sorted(got)).toEqual(sorted(expected.windows));
    expect(expected.dropped).toBeGreaterThan(0);
    expect(aggregator.stats().totals.dropped).toBe(expected.dropped);
    expect(aggregator.stats().totals.applied + aggregator.stats().totals.dropped).toBe(events.length);
    // A dimension value with ':', '{', '}' and '%' comes back as written.
    expect(Object.keys(stored[0]?.dimensions.country ?? {})).toContain('a:b{c}%');
    // Everything is acknowledged: nothing pending in the group.
    const pending = (await redis.client.xpending(stream, 'g')) as [number];
    expect(pending[0]).toBe(0);
  });

  test('late records: within grace applied and counted late, beyond grace dropped and counted', async () => {
    const t0 = base();
    const { redis, stream, aggregator } = setup([
      { name: 'w', size: '1m', grace: '10s', retention: '1h', fields: ['amount'] },
    ]);
    await produce(redis, stream, [
      { time: t0 + 1_000, amount: 1 }, // window 0
      { time: t0 + MINUTE + 5_000, amount: 2 }, // window 1: watermark t0+65s
      { time: t0 + 30_000, amount: 4 }, // window 0 ended at 60s, 65s < 60s + 10s: late, applied
      { time: t0 + MINUTE + 20_000, amount: 8 }, // watermark t0+80s: window 0 is closed now
      { time: t0 + 59_000, amount: 16 }, // window 0: 80s >= 70s, dropped
      { time: t0 + MINUTE + 1_000, amount: 32 }, // out of order but its window is open: applied, not late
    ]);
    await aggregator.start();
    await eventually(() => aggregator.stats().totals.records === 6, 20_000);
    const [w0, w1] = await aggregator.recent('w', { since: t0 });
    expect(w0).toMatchObject({ start: t0, count: 2, fields: { amount: { sum: 5, min: 1, max: 4 } } });
    expect(w1).toMatchObject({ start: t0 + MINUTE, count: 3, fields: { amount: { sum: 42, min: 2, max: 32 } } });
    expect(aggregator.stats().totals).toMatchObject({ records: 6, applied: 5, late: 1, dropped: 1, invalid: 0 });
    // Window 0 is final (watermark 80s >= 60s + 10s); window 1 is not.
    expect(w0?.final).toBe(true);
    expect(w1?.final).toBe(false);
  });

  test('records without a usable time or with a non-numeric field are counted invalid and still acknowledged', async () => {
    const t0 = base();
    const { redis, stream, aggregator } = setup([
      { name: 'w', size: '1m', grace: 0, retention: '1h', fields: ['amount'] },
    ]);
    await redis.client.xadd(stream, '*', 'time', 'yesterday-ish', 'amount', '1');
    await redis.client.xadd(stream, '*', 'time', String(t0), 'amount', 'ten');
    await redis.client.xadd(stream, '*', 'time', String(t0), 'amount', '10');
    await redis.client.xadd(stream, '*', 'amount', '3');
    await aggregator.start();
    await eventually(() => aggregator.stats().totals.records === 4, 20_000);
    expect(aggregator.stats().totals).toMatchObject({ applied: 1, invalid: 3 });
    expect((await aggregator.window('w', t0))?.fields.amount?.sum).toBe(10);
    expect(((await redis.client.xpending(stream, 'g')) as [number])[0]).toBe(0);
  });

  test('hopping windows: each record lands in size / hop windows', async () => {
    const t0 = base();
    const events: TestEvent[] = Array.from({ length: 600 }, (_, i) => ({ time: t0 + i * 500, amount: i }));
    const { redis, stream, aggregator } = setup([
      { name: 'h', size: '1m', hop: '20s', grace: '1s', retention: '1h', fields: ['amount'] },
    ]);
    await produce(redis, stream, events);
    await aggregator.start();
    await eventually(() => aggregator.stats().totals.records === events.length, 20_000);
    const expected = offline([events], { sizeMs: MINUTE, hopMs: 20_000, graceMs: 1000 });
    const got = comparable(await aggregator.recent('h', { since: 0 }));
    expect(sorted(got)).toEqual(sorted(expected.windows));
    // 600 records over 5 minutes, each in 3 windows.
    expect([...got.values()].reduce((n, w) => n + w.count, 0)).toBe(600 * 3);
  });

  test('updates are published on pub/sub and diagnostics; final once the watermark passes end + grace', async () => {
    const t0 = base();
    const { redis, stream, aggregator } = setup([{ name: 'p', size: '1m', grace: '5s', retention: '1h' }]);
    const updates: WindowUpdate[] = [];
    const subscription = await aggregator.subscribe('p', (u) => updates.push(u));
    await aggregator.start();
    await produce(redis, stream, [{ time: t0 + 1000 }]);
    await eventually(() => updates.length === 1, 20_000);
    expect(updates[0]).toEqual({ name: 'p', start: t0, final: false });
    // Watermark t0 + 66s: window 0 (end 60s + grace 5s) becomes final; window 1 is updated.
    await produce(redis, stream, [{ time: t0 + MINUTE + 6000 }]);
    await eventually(() => updates.length === 3, 20_000);
    expect(updates.slice(1)).toEqual(
      expect.arrayContaining([
        { name: 'p', start: t0, final: true },
        { name: 'p', start: t0 + MINUTE, final: false },
      ]),
    );
    expect((await aggregator.window('p', t0))?.final).toBe(true);
    await subscription.unsubscribe();
  });

  test('a rewound group redelivers everything: every record is a duplicate and nothing changes', async () => {
    const t0 = base();
    const events: TestEvent[] = Array.from({ length: 1000 }, (_, i) => ({ time: t0 + i * 100, amount: 1 }));
    const spec: WindowSpec = { name: 'r', size: '1m', grace: '1s', retention: '1h', fields: ['amount'] };
    const first = setup([spec]);
    await produce(first.redis, first.stream, events);
    await first.aggregator.start();
    await eventually(() => first.aggregator.stats().totals.records === 1000, 20_000);
    const before = await first.aggregator.recent('r', { since: 0 });
    await first.aggregator.stop();

    await first.redis.client.xgroup('SETID', first.stream, 'g', '0');
    const source = new RedisStreamSource({ redis: first.redis, stream: first.stream, group: 'g', consumer: 'c1' });
    const again = track(createWindowAggregator({ redis: first.redis, source, windows: [spec] }));
    await again.start();
    await eventually(() => again.stats().totals.records === 1000, 20_000);
    expect(again.stats().totals).toMatchObject({ duplicate: 1000, applied: 0 });
    expect(await again.recent('r', { since: 0 })).toEqual(before);
    await again.stop();
  });
});
