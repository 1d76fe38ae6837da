/**
 * Where a Redis hit of the Cache spends its CPU: each layer of `cache.get`
 * timed on its own, 100 in flight (CPU bound), median of rotated rounds.
 * Diagnostic companion of cache-vs-peers.mjs; run with `node --cpu-prof` for a profile.
 *
 *   node patterns/hot-path.mjs            # own redis-server unless REDIS_URL is set
 *   PROFILE=ours node --cpu-prof --cpu-prof-dir=/tmp/prof patterns/hot-path.mjs
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRedis } from '@stratacache/core-client';
import { createCache } from '@stratacache/patterns';
import { json } from '@stratacache/serializers';
import { Redis } from 'ioredis';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function startServer() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: () => {} };
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50 });
  probe.on('error', () => {});
  for (let i = 0; i < 100; i++) {
    try {
      await probe.connect();
      break;
    } catch {
      await sleep(50);
    }
  }
  probe.disconnect();
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill() };
}

const server = await startServer();
process.once('exit', () => server.stop());
const RUN = `hp${randomBytes(4).toString('hex')}`;
const raw = new Redis(server.url);
const strata = createRedis({ url: server.url, env: {}, prefix: RUN });
const strataNoBreaker = createRedis({ url: server.url, env: {}, prefix: RUN, breaker: false });
const ours = createCache({ redis: strata, namespace: 'r', memory: false, defaults: { ttl: '1h' } });
const oursNoBreaker = createCache({ redis: strataNoBreaker, namespace: 'r', memory: false, defaults: { ttl: '1h' } });
const KEYS = Array.from({ length: 100 }, (_, i) => `k${i}`);
const value = {
  id: 42,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  active: true,
  roles: ['admin', 'dev'],
  items: [],
};
for (let i = 0; value.items.length < 3; i++) value.items.push({ i, sku: `SKU-${i * 7919}`, qty: i % 9, price: 9.99 });
const rk = (k) => `${RUN}:r:e:${k}`;
for (const k of KEYS) {
  await ours.set(k, value);
  await raw.set(`${RUN}:raw:${k}`, JSON.stringify(value), 'EX', 3600);
}
const entryBytes = await raw.getBuffer(rk('k1'));
const serializer = json();
const payload = entryBytes.subarray(28);

const cells = {
  'raw get + JSON.parse': () => Promise.all(KEYS.map(async (k) => JSON.parse(await raw.get(`${RUN}:raw:${k}`)))),
  'raw getBuffer (no decode)': () => Promise.all(KEYS.map((k) => raw.getBuffer(rk(k)))),
  'raw getBuffer + json().decode(subarray)': () =>
    Promise.all(KEYS.map(async (k) => serializer.decode((await raw.getBuffer(rk(k))).subarray(28)))),
  'raw getBuffer + toString + JSON.parse': () =>
    Promise.all(KEYS.map(async (k) => JSON.parse((await raw.getBuffer(rk(k))).toString('utf8', 32)))),
  'strata.run(getBuffer)': () => Promise.all(KEYS.map((k) => strata.run('get', (c) => c.getBuffer(rk(k))))),
  'cache.get (breaker on, default)': () => Promise.all(KEYS.map((k) => ours.get(k))),
  'cache.get (breaker: false)': () => Promise.all(KEYS.map((k) => oursNoBreaker.get(k))),
};
if (process.env.PROFILE) {
  const fn = process.env.PROFILE === 'ours' ? cells['cache.get (breaker on, default)'] : cells['raw get + JSON.parse'];
  const end = performance.now() + 4000;
  while (performance.now() < end) await fn();
} else {
  // CPU-only costs, no Redis.
  const N = 200_000;
  const time = (name, f) => {
    for (let i = 0; i < 20_000; i++) f();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) f();
    console.log(`${name}: ${(((performance.now() - t0) * 1e6) / N).toFixed(0)} ns/op`);
  };
  const text = JSON.stringify(value);
  time('JSON.parse(string)', () => JSON.parse(text));
  time('payload.toString + JSON.parse', () => JSON.parse(payload.toString('utf8', 4)));
  time('json().decode(payload) (secure-json-parse + envelope)', () => serializer.decode(payload));
  time('Date.now()', () => Date.now());
  const samples = Object.fromEntries(Object.keys(cells).map((n) => [n, []]));
  for (let round = 0; round < 7; round++) {
    const names = Object.keys(cells);
    const order = [...names.slice(round % names.length), ...names.slice(0, round % names.length)];
    for (const name of order) {
      const end0 = performance.now() + 50;
      while (performance.now() < end0) await cells[name]();
      let ops = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 300) {
        await cells[name]();
        ops += 100;
      }
      samples[name].push((ops * 1000) / (performance.now() - t0));
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(samples['raw get + JSON.parse']);
  console.table(
    Object.entries(samples).map(([name, xs]) => ({
      '100 in flight': name,
      'ops/s': Math.round(median(xs)),
      'x raw': (median(xs) / base).toFixed(2),
      'us/op': (1e6 / median(xs)).toFixed(2),
    })),
  );
}
ours.close();
oursNoBreaker.close();
const keys = [];
for await (const batch of raw.scanStream({ match: `${RUN}*`, count: 1000 })) keys.push(...batch);
if (keys.length) await raw.unlink(...keys);
raw.disconnect();
await strata.close();
await strataNoBreaker.close();
process.exit(0);
