/**
 * Lock acquire+release and rate-limit check throughput against the peers, in
 * one run on one Redis: @stratacache/coordination vs redis-semaphore (Mutex)
 * and rate-limiter-flexible (RateLimiterRedis), with raw ioredis SET NX PX +
 * DEL as the floor. Sequential operations on one connection each, so the
 * numbers are round-trip bound; ratios are what to compare.
 *
 * Run (after `pnpm build`; starts its own redis-server unless REDIS_URL is set):
 *   pnpm --filter @stratacache/bench coordination
 */
import { spawn } from 'node:child_process';
import { createLocks, createRateLimiter } from '@stratacache/coordination';
import { createRedis } from '@stratacache/core-client';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { Mutex } from 'redis-semaphore';
import { Bench } from 'tinybench';

async function startServer() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: () => {} };
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => 50 });
  probe.on('error', () => {});
  for (let i = 0; i < 100; i++) {
    try {
      await probe.connect();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill() };
}

const server = await startServer();
const raw = new Redis(server.url);
const peers = new Redis(server.url);
const strata = createRedis({ url: server.url, env: {}, prefix: 'bench' });
const locks = createLocks(strata);
const limiterStrata = createRateLimiter(strata, { algorithm: 'sliding-window', limit: 1e9, window: '1h' });
const limiterGcra = createRateLimiter(strata, { algorithm: 'gcra', limit: 1e9, window: '1h', name: 'gcra' });
const limiterFlexible = new RateLimiterRedis({ storeClient: peers, points: 1e9, duration: 3600, keyPrefix: 'rlflex' });

let i = 0;
const tasks = {
  'raw ioredis SET NX PX + DEL': async () => {
    const key = `raw:${i++ % 1000}`;
    await raw.set(key, 't', 'PX', 10000, 'NX');
    await raw.del(key);
  },
  'stratacache lock acquire+release': async () => {
    const lock = await locks.acquire(`l${i++ % 1000}`, { ttl: 10000 });
    await lock.release();
  },
  'redis-semaphore Mutex acquire+release': async () => {
    const mutex = new Mutex(peers, `m${i++ % 1000}`, { lockTimeout: 10000, acquireTimeout: 1000, refreshInterval: 0 });
    await mutex.acquire();
    await mutex.release();
  },
  'stratacache rate limit (sliding-window)': async () => {
    await limiterStrata.limit(`u${i++ % 1000}`);
  },
  'stratacache rate limit (gcra)': async () => {
    await limiterGcra.limit(`u${i++ % 1000}`);
  },
  'rate-limiter-flexible consume': async () => {
    await limiterFlexible.consume(`u${i++ % 1000}`);
  },
};

// Several short rounds, each in a rotated order, and the median of each: one
// round on a shared 2-core machine swings by 20% or more.
const ROUNDS = 7;
const samples = Object.fromEntries(Object.keys(tasks).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  const names = Object.keys(tasks);
  const order = [...names.slice(round % names.length), ...names.slice(0, round % names.length)];
  const bench = new Bench({ time: 400, warmupTime: 100 });
  for (const name of order) bench.add(name, tasks[name]);
  await bench.run();
  for (const task of bench.tasks) samples[task.name].push(task.result.throughput.mean);
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const hz = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
const rows = Object.keys(tasks).map((name) => ({
  operation: name,
  'median ops/s': Math.round(hz[name]),
  'x raw lock': (hz[name] / hz['raw ioredis SET NX PX + DEL']).toFixed(2),
}));
console.log(
  `node ${process.version}, redis ${(await raw.info('server')).match(/redis_version:(\S+)/)[1]}, median of ${ROUNDS} rounds, ${new Date().toISOString()}`,
);
console.table(rows);
console.log(
  `lock: stratacache / redis-semaphore = ${(hz['stratacache lock acquire+release'] / hz['redis-semaphore Mutex acquire+release']).toFixed(2)}; ` +
    `rate limit: stratacache sliding-window / rate-limiter-flexible = ${(hz['stratacache rate limit (sliding-window)'] / hz['rate-limiter-flexible consume']).toFixed(2)}`,
);
raw.disconnect();
peers.disconnect();
await strata.close();
server.stop();
