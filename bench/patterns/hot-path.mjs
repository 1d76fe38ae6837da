/**
 * Where a Redis hit of the Cache spends its CPU: each layer of `cache.get`
 * and `cache.getOrSet` timed on its own, 100 in flight (CPU bound) or one at
 * a time, median of rotated rounds. Diagnostic companion of cache-vs-peers.mjs.
 *
 *   node patterns/hot-path.mjs                  # own redis-server unless REDIS_URL is set
 *   MODE=seq node patterns/hot-path.mjs         # one operation in flight instead of 100
 *   PROFILE='cache.get (batched, default)' node --cpu-prof --cpu-prof-dir=/tmp/prof patterns/hot-path.mjs
 *
 * Instruction counts per operation (callgrind, independent of the machine's load):
 *   node lib/instructions.mjs patterns/hot-path.mjs 'CELL=raw get + JSON.parse' 'CELL=cache.get (batched, default)' -- N=300
 * (N is the number of cell calls; a call is 100 operations in MODE=par, 1 in MODE=seq.)
 */
import { randomBytes } from 'node:crypto';
import { createRedis } from '@stratacache/core-client';
import { createCache } from '@stratacache/patterns';
import { json } from '@stratacache/serializers';
import { Redis } from 'ioredis';
import { startServer } from '../lib/redis-server.mjs';

const MODE = process.env.MODE ?? 'par';
const server = await startServer();
process.once('exit', () => server.stop());
const RUN = `hp${randomBytes(4).toString('hex')}`;
const raw = new Redis(server.url);
// Under valgrind everything runs about 50 times slower: timeouts that would never fire otherwise.
const slow = process.env.CELL ? { commandTimeout: '5m', connectTimeout: '5m' } : {};
const strata = createRedis({ url: server.url, env: {}, prefix: RUN, ...slow });
const strataNoBreaker = createRedis({ url: server.url, env: {}, prefix: RUN, breaker: false, ...slow });
const opts = { namespace: 'r', memory: false, defaults: { ttl: '1h' } };
const batched = createCache({ redis: strata, ...opts });
const direct = createCache({ redis: strata, ...opts, batchReads: false });
const directNoBreaker = createCache({ redis: strataNoBreaker, ...opts, batchReads: false });
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
const rawKey = (k) => `${RUN}:raw:${k}`;
for (const k of KEYS) {
  await batched.set(k, value);
  await raw.set(rawKey(k), JSON.stringify(value), 'EX', 3600);
}
const entryBytes = await raw.getBuffer(rk('k1'));
const serializer = json();
const payload = entryBytes.subarray(28);
const never = () => {
  throw new Error('factory called on a hit');
};

/** A cell: `op(key)` 100 in flight (par) or once (seq). */
const cell = (op) =>
  MODE === 'par'
    ? () => Promise.all(KEYS.map(op))
    : (() => {
        let i = 0;
        return () => op(KEYS[i++ % 100]);
      })();
const cells = {
  'raw get + JSON.parse': cell(async (k) => JSON.parse(await raw.get(rawKey(k)))),
  'raw getBuffer (no decode)': cell((k) => raw.getBuffer(rk(k))),
  'raw getBuffer + json().decode': cell(async (k) => serializer.decode((await raw.getBuffer(rk(k))).subarray(28))),
  'strata.run(getBuffer)': cell((k) => strata.run('get', (c) => c.getBuffer(rk(k)))),
  'cache.get (batched, default)': cell((k) => batched.get(k)),
  'cache.getOrSet hit (batched, default)': cell((k) => batched.getOrSet(k, never)),
  'cache.get (batchReads: false)': cell((k) => direct.get(k)),
  'cache.getOrSet hit (batchReads: false)': cell((k) => direct.getOrSet(k, never)),
  'cache.get (batchReads: false, breaker: false)': cell((k) => directNoBreaker.get(k)),
};
// getMany of the 100 keys against one raw MGET + parse: 100 operations per call in either mode.
const rawKeys = KEYS.map(rawKey);
cells['raw mget + JSON.parse (x100)'] = async () => (await raw.mget(rawKeys)).map((t) => JSON.parse(t));
cells['cache.getMany (x100)'] = () => batched.getMany(KEYS);
const per = MODE === 'par' ? 100 : 1;
if (process.env.ONLY)
  for (const name of Object.keys(cells)) if (!new RegExp(process.env.ONLY).test(name)) delete cells[name];

if (process.env.CELL) {
  const fn = cells[process.env.CELL];
  if (!fn) throw new Error(`no cell ${process.env.CELL}; cells: ${Object.keys(cells).join(', ')}`);
  for (let i = 0; i < 20; i++) await fn(); // warm, also in the N=0 run
  const n = Number(process.env.N ?? 300);
  for (let i = 0; i < n; i++) await fn();
} else if (process.env.PROFILE) {
  const fn = cells[process.env.PROFILE];
  const end = performance.now() + 4000;
  while (performance.now() < end) await fn();
} else {
  const N = 200_000;
  const time = (name, f) => {
    for (let i = 0; i < 20_000; i++) f();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) f();
    console.log(`${name}: ${(((performance.now() - t0) * 1e6) / N).toFixed(0)} ns/op`);
  };
  const text = JSON.stringify(value);
  time('JSON.parse(string)', () => JSON.parse(text));
  time('json().decode(payload)', () => serializer.decode(payload));
  const samples = Object.fromEntries(Object.keys(cells).map((n) => [n, { wall: [], cpu: [] }]));
  for (let round = 0; round < 7; round++) {
    const names = Object.keys(cells);
    const order = [...names.slice(round % names.length), ...names.slice(0, round % names.length)];
    for (const name of order) {
      const end0 = performance.now() + 30;
      while (performance.now() < end0) await cells[name]();
      let ops = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      while (performance.now() - t0 < 200) {
        await cells[name]();
        ops += name.endsWith('(x100)') ? 100 : per;
      }
      const c = process.cpuUsage(c0);
      samples[name].wall.push((ops * 1000) / (performance.now() - t0));
      samples[name].cpu.push((c.user + c.system) / ops);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = samples['raw get + JSON.parse'] ?? Object.values(samples)[0];
  console.log(
    `${MODE === 'par' ? '100 in flight' : 'one at a time'}, median of 7 rotated rounds, ${new Date().toISOString()}`,
  );
  console.table(
    Object.entries(samples).map(([name, s]) => ({
      cell: name,
      'ops/s': Math.round(median(s.wall)),
      'x raw (wall)': median(s.wall.map((x, i) => x / base.wall[i])).toFixed(2),
      'client CPU us/op': median(s.cpu).toFixed(2),
      'x raw (CPU)': median(s.cpu.map((x, i) => x / base.cpu[i])).toFixed(2),
    })),
  );
}
for (const c of [batched, direct, directNoBreaker]) c.close();
const keys = [];
for await (const batch of raw.scanStream({ match: `${RUN}*`, count: 1000 })) keys.push(...batch);
if (keys.length) await raw.unlink(...keys);
raw.disconnect();
await strata.close();
await strataNoBreaker.close();
process.exit(0);
