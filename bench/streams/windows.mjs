/**
 * Events per second aggregated end to end from a Redis Stream in one process:
 * XREADGROUP, decode, window assignment, one apply script per series and
 * partition batch, XACK. Two series (tumbling 1m with a field and a breakdown,
 * hopping 5m/1m with a distinct count), as a real service would run. The
 * events are written first (not timed); the clock runs from start() until the
 * last batch is committed. The floor beside it: the same entries read and
 * acknowledged by raw ioredis with nothing computed or written.
 *
 * Run (after `pnpm build`; starts its own redis-server unless REDIS_URL is set):
 *   pnpm --filter @stratacache/bench streams
 * EVENTS (default 300000) and READ (entries per XREADGROUP, default 2000) change the run.
 */
import { randomBytes } from 'node:crypto';
import { createRedis } from '@stratacache/core-client';
import { createWindowAggregator, RedisStreamSource } from '@stratacache/streams';
import { Redis } from 'ioredis';
import { startServer } from '../lib/redis-server.mjs';

const EVENTS = Number(process.env.EVENTS ?? 300_000);
const READ = Number(process.env.READ ?? 2000);

const server = await startServer();
const prefix = `wb${randomBytes(4).toString('hex')}`;
const redis = createRedis({ url: server.url, env: {}, prefix, commandTimeout: '10s' });
const raw = new Redis(server.url);

async function fill(stream) {
  const t0 = Date.now() - 3_600_000;
  const countries = ['de', 'fr', 'us', 'br', 'jp', 'in'];
  for (let i = 0; i < EVENTS; i += 5000) {
    const pipeline = raw.pipeline();
    for (let j = i; j < Math.min(EVENTS, i + 5000); j++) {
      pipeline.xadd(
        stream,
        '*',
        'time',
        String(t0 + Math.floor(j * (3_000_000 / EVENTS))),
        'amount',
        String(j % 997),
        'country',
        countries[j % 6],
        'user',
        `u${j % 5000}`,
      );
    }
    await pipeline.exec();
  }
}

// Floor: read and acknowledge only.
const floorStream = `${prefix}:floor`;
await fill(floorStream);
await raw.xgroup('CREATE', floorStream, 'g', '0');
let started = performance.now();
for (let read = 0; read < EVENTS; ) {
  const reply = await raw.xreadgroup('GROUP', 'g', 'c', 'COUNT', READ, 'STREAMS', floorStream, '>');
  const entries = reply?.[0]?.[1] ?? [];
  if (entries.length === 0) break;
  await raw.xack(floorStream, 'g', ...entries.map((e) => e[0]));
  read += entries.length;
}
const floorRate = EVENTS / ((performance.now() - started) / 1000);

// The aggregator.
const stream = `${prefix}:events`;
await fill(stream);
const source = new RedisStreamSource({ redis, stream, group: 'g', consumer: 'bench', readCount: READ, block: '50ms' });
const aggregator = createWindowAggregator({
  redis,
  source,
  windows: [
    { name: 'orders-1m', size: '1m', grace: '10s', retention: '3h', fields: ['amount'], dimensions: ['country'] },
    { name: 'users-5m', size: '5m', hop: '1m', grace: '10s', retention: '3h', distinct: ['user'] },
  ],
  queue: { max: 4 * READ * 2, highWater: 3 * READ * 2, lowWater: READ },
  batch: { max: READ, linger: 0 },
});
started = performance.now();
await aggregator.start();
while (aggregator.stats().totals.records < EVENTS) await new Promise((r) => setTimeout(r, 5));
const seconds = (performance.now() - started) / 1000;
const stats = aggregator.stats();
await aggregator.stop();

const rate = EVENTS / seconds;
console.log(
  JSON.stringify(
    {
      events: EVENTS,
      readCount: READ,
      seconds: Number(seconds.toFixed(2)),
      eventsPerSecond: Math.round(rate),
      floorReadAckPerSecond: Math.round(floorRate),
      batches: stats.batches,
      applied: stats.totals.applied,
    },
    null,
    2,
  ),
);
await redis.unlinkMatching(`${prefix}:*`);
await redis.close();
raw.disconnect();
server.stop();
