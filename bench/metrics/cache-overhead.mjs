/**
 * What registering @stratacache/metrics costs a Cache: a Redis hit (memory
 * tier off, so every get is a round trip plus its command timing and hit
 * event) and a memory hit (a hit event only), with metrics registered vs
 * not, in the same process on the same cache. Targets (issue 14): under 5%
 * on the Redis hit, under 15% on the memory hit.
 *
 *   pnpm build && node metrics/cache-overhead.mjs    # own redis-server unless REDIS_URL is set
 *   ROUNDS=3 CELL_MS=200 node metrics/cache-overhead.mjs
 *
 * How: each cell is a timed loop whose call does a batch (100 concurrent Redis
 * gets, or 2,000 memory gets); each round measures every mode (without
 * metrics, `lookups: 'events'`, `lookups: 'stats'`; the order rotates between
 * rounds), each after a 150 ms warm-up following the switch.
 * Rates are per CPU-second of this process (process.cpuUsage), so the load
 * of other processes on a shared machine moves them less than wall time.
 * The overhead is the median over rounds of (off rate / on rate - 1).
 */
import { randomBytes } from 'node:crypto';
import { createRedis } from '@stratacache/core-client';
import { registerMetrics } from '@stratacache/metrics';
import { createCache } from '@stratacache/patterns';
import { Registry } from 'prom-client';
import { startServer } from '../lib/redis-server.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CELL_MS = Number(process.env.CELL_MS ?? 400);

const server = await startServer();
process.once('exit', () => server.stop());
const RUN = `mb${randomBytes(4).toString('hex')}`;
const redis = createRedis({ url: server.url, env: {}, prefix: RUN });
const viaRedis = createCache({ redis, namespace: 'r', memory: false, defaults: { ttl: '1h' } });
const inMemory = createCache({ redis, namespace: 'm', defaults: { ttl: '1h' } });
const value = { id: 42, name: 'Ada Lovelace', email: 'ada@example.com', roles: ['admin', 'dev'] };
const KEYS = Array.from({ length: 100 }, (_, i) => `k${i}`);
for (const k of KEYS) {
  await viaRedis.set(k, value);
  await inMemory.set(k, value);
}

const cells = {
  'Redis hit (100 concurrent gets)': { ops: 100, run: () => Promise.all(KEYS.map((k) => viaRedis.get(k))) },
  'memory hit (2,000 gets)': {
    ops: 2000,
    run: async () => {
      for (let i = 0; i < 2000; i++) await inMemory.get(KEYS[i % 100]);
    },
  },
};

const MODES = {
  'without metrics': undefined,
  "lookups: 'events' (default)": { lookups: 'events' },
  "lookups: 'stats'": { lookups: 'stats', caches: [viaRedis, inMemory] },
};
let handle;
const setMode = (mode) => {
  handle?.unregister();
  handle = undefined;
  const options = MODES[mode];
  if (options) handle = registerMetrics({ registry: new Registry(), redis, ...options });
};

// CPU time of this process, not wall time: on a shared machine other processes' load moves wall
// time between rounds far more than the cost measured here (Redis runs in its own process).
async function slice(cell, ms) {
  let ops = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - start < ms) {
    await cell.run();
    ops += cell.ops;
  }
  const used = process.cpuUsage(cpu);
  return { ops, ms: (used.user + used.system) / 1000 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
const names = Object.keys(MODES);
for (const [name, cell] of Object.entries(cells)) {
  for (let i = 0; i < 3; i++) await cell.run(); // warm up
  const rates = Object.fromEntries(names.map((m) => [m, []]));
  const overheads = Object.fromEntries(names.slice(1).map((m) => [m, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    const rate = {};
    for (const mode of order) {
      // Registering flips every channel between "no subscribers" and "subscribed", which makes V8
      // re-optimise the publishers: warm up after each switch, as an application registers once.
      setMode(mode);
      await slice(cell, 150);
      const s = await slice(cell, CELL_MS);
      rate[mode] = (s.ops / s.ms) * 1000;
      rates[mode].push(rate[mode]);
    }
    for (const mode of names.slice(1)) overheads[mode].push(rate[names[0]] / rate[mode] - 1);
    if (process.env.VERBOSE) console.log(name, round, JSON.stringify(rate));
  }
  results[name] = { 'ops per CPU-second without metrics': Math.round(median(rates[names[0]])) };
  for (const mode of names.slice(1))
    results[name][`overhead, ${mode}`] = `${(median(overheads[mode]) * 100).toFixed(1)}%`;
}
setMode('without metrics');
console.table(results);
console.log(
  `node ${process.version}, ${ROUNDS} rounds of ${CELL_MS} ms per mode, ${new Date().toISOString().slice(0, 10)}`,
);
await redis.unlinkMatching(`${RUN}:*`);
viaRedis.close();
inMemory.close();
await redis.close();
process.exit(0);
