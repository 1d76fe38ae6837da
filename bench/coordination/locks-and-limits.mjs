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
const bench = new Bench({ time: 1500, warmupTime: 300 });
bench
  .add('raw ioredis SET NX PX + DEL', async () => {
    const key = `raw:${i++ % 1000}`;
    await raw.set(key, 't', 'PX', 10000, 'NX');
    await raw.del(key);
  })
  .add('stratacache lock acquire+release', async () => {
    const lock = await locks.acquire(`l${i++ % 1000}`, { ttl: 10000 });
    await lock.release();
  })
  .add('redis-semaphore Mutex acquire+release', async () => {
    const mutex = new Mutex(peers, `m${i++ % 1000}`, { lockTimeout: 10000, acquireTimeout: 1000, refreshInterval: 0 });
    await mutex.acquire();
    await mutex.release();
  })
  .add('stratacache rate limit (sliding-window)', async () => {
    await limiterStrata.limit(`u${i++ % 1000}`);
  })
  .add('stratacache rate limit (gcra)', async () => {
    await limiterGcra.limit(`u${i++ % 1000}`);
  })
  .add('rate-limiter-flexible consume', async () => {
    await limiterFlexible.consume(`u${i++ % 1000}`);
  });
await bench.run();

const hz = Object.fromEntries(bench.tasks.map((t) => [t.name, t.result.throughput.mean]));
const rows = bench.tasks.map((t) => ({
  operation: t.name,
  'ops/s': Math.round(hz[t.name]),
  'x raw lock': (hz[t.name] / hz['raw ioredis SET NX PX + DEL']).toFixed(2),
}));
console.log(
  `node ${process.version}, redis ${(await raw.info('server')).match(/redis_version:(\S+)/)[1]}, ${new Date().toISOString()}`,
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
