/**
 * A read of new entries (XREADGROUP '>') that times out is not a read that
 * did not happen: Redis may run it later (here: it was stopped with SIGSTOP),
 * delivering its entries to this consumer's pending list while the reply is
 * thrown away. Those entries must still be applied, in stream order, before
 * any later entry; otherwise the partition's offset moves past them and they
 * are taken for replays (acknowledged, never counted) when read again.
 */
import { createRedis } from '@stratacache/core-client';
import { eventually } from '@stratacache/test-utils';
import { expect, test } from 'vitest';
import { createWindowAggregator, RedisStreamSource, type WindowSpec } from '../src/index.js';
import { client, comparable, offline, produce, random, server, sorted, type TestEvent, track } from './helpers.js';

const windows: WindowSpec[] = [
  // A tight grace, where the order of application decides what is dropped, and a wide one that keeps all.
  { name: 'tight', size: '10s', grace: '2s', retention: '1h', fields: ['amount'] },
  { name: 'wide', size: '10s', grace: '1h', retention: '1h', fields: ['amount'] },
];

test('a read that times out after Redis ran it: its entries are applied, in order, before later ones', async () => {
  const streamsServer = await server();
  const streams = createRedis({ url: streamsServer.url, env: {}, prefix: 'rt', commandTimeout: '200ms' });
  const aggregates = client();
  const stream = 'rt:stream:events';
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
  // Out of order by up to 4 s, so the tight series drops some records, and which depends on the order.
  const rand = random(7);
  const events: TestEvent[] = Array.from({ length: 3000 }, (_, i) => ({
    time: t0 + i * 50 - Math.floor(rand() * 4000),
    amount: i % 10,
  }));
  await produce(streams, stream, events);

  const consume = (stall: boolean) => {
    const source = new RedisStreamSource({
      redis: streams,
      stream,
      group: 'g',
      consumer: 'c',
      readCount: 100,
      block: '100ms',
      retry: { baseDelay: '20ms', maxDelay: '100ms' },
    });
    if (stall) {
      // Right after the third delivery, the next XREADGROUP '>' goes to a stopped Redis: it times out
      // (block + commandTimeout = 300 ms) and is retried, and Redis runs every one of them once it
      // continues, 1 s later. Only the last one's reply is read.
      const start = source.start.bind(source);
      let deliveries = 0;
      source.start = (handlers) =>
        start({
          ...handlers,
          deliver: (batch) => {
            if (++deliveries === 3) {
              streamsServer.pause();
              setTimeout(() => streamsServer.resume(), 1000);
            }
            return handlers.deliver(batch);
          },
        });
    }
    const aggregator = track(
      createWindowAggregator({
        redis: aggregates,
        source,
        windows,
        batch: { max: 100, linger: 0 },
        retry: { baseDelay: '20ms', maxDelay: '100ms' },
      }),
    );
    return { source, aggregator };
  };
  // Lag counts pending entries too: zero once every entry was delivered and acknowledged.
  const done = async ({ source, aggregator }: ReturnType<typeof consume>) =>
    (await source.lag().catch(() => undefined))?.[0]?.lag === 0 && aggregator.stats().queue.depth === 0;

  const first = consume(true);
  await first.aggregator.start();
  // Every entry delivered (to the group) and every queued one applied; with the bug, the entries of the
  // lost replies stay pending and this never becomes true.
  const settled = await eventually(() => done(first), 15_000).then(
    () => true,
    () => false,
  );
  const stats = first.aggregator.stats();
  await first.aggregator.stop();
  // The interleaving did happen: at least one read failed.
  expect(stats.failures.read ?? 0).toBeGreaterThan(0);

  // A restart under the same name reads its pending entries again (what a crash would lead to).
  const second = consume(false);
  await second.aggregator.start();
  await eventually(() => done(second), 15_000);
  await second.aggregator.stop();

  for (const spec of windows) {
    const expected = offline([events], { sizeMs: 10_000, graceMs: spec.name === 'tight' ? 2000 : 3_600_000 });
    const stored = comparable(await first.aggregator.recent(spec.name, { since: 0 }));
    expect(sorted(stored), spec.name).toEqual(
      sorted(new Map([...expected.windows].map(([k, v]) => [k, { ...v, byCountry: {}, users: 0 }]))),
    );
  }
  // And the first consumer had applied every entry by itself, without a restart.
  expect(settled).toBe(true);
  expect(stats.totals.records).toBe(events.length);
  await streams.close();
}, 60_000);
