/**
 * What each layer of core-client adds to one command, against raw ioredis on
 * the same server: the guarded connection (`redis.client`: the command
 * guard's timeout timer, sent-tracking and offline-queue bound), `run()` (the
 * circuit breaker and error mapping) and `runScript()` (a time budget passed
 * explicitly, EVALSHA with the NOSCRIPT fallback). The layers above
 * (patterns, coordination, sessions) pay these on every command; this bench
 * says how much, so the owners of core-client can act on numbers.
 *
 * CPU time of this process per command (process.cpuUsage), one command in
 * flight (MODE=seq, default) or 100 (MODE=par); cells alternate, median of
 * ROUNDS. Instruction counts (independent of the machine's load):
 *   node lib/instructions.mjs core-client/command-layers.mjs 'CELL=raw GET' 'CELL=redis.run GET' -- N=3000
 */
import { createRedis, defineScript } from '@stratacache/core-client';
import { Redis } from 'ioredis';
import { startServer } from '../lib/redis-server.mjs';

const MODE = process.env.MODE ?? 'seq';
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const server = await startServer();
process.once('exit', () => server.stop());
const RUN = `cl${Math.random().toString(16).slice(2, 10)}`;
const slow = process.env.CELL ? { commandTimeout: '5m', connectTimeout: '5m' } : {};
const raw = new Redis(server.url);
const rawTimed = new Redis(server.url, { commandTimeout: 60_000 });
const strata = createRedis({ url: server.url, env: {}, prefix: RUN, ...slow });
const noBreaker = createRedis({ url: server.url, env: {}, prefix: RUN, breaker: false, ...slow });
const script = defineScript(
  'incr-ttl',
  "local n = redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], ARGV[1]) return n",
  1,
);
for (const c of [raw, strata.client]) await c.script('load', script.source);
strata.registerScripts([script]);
const key = `${RUN}:k`;
await raw.set(key, 'x'.repeat(200), 'EX', 3600);

const cells = {
  'raw GET': () => raw.get(key),
  'raw GET, ioredis commandTimeout': () => rawTimed.get(key),
  'redis.client GET (guarded)': () => strata.client.get(key),
  'redis.run GET': () => strata.run('get', (c) => c.get(key)),
  'redis.run GET, breaker: false': () => noBreaker.run('get', (c) => c.get(key)),
  'raw EVALSHA': () => raw.evalsha(script.sha1, 1, `${RUN}:n`, 60000),
  'redis.runScript': () => strata.runScript(script, [`${RUN}:n`], [60000]),
};
const call = (f) => (MODE === 'par' ? Promise.all(Array.from({ length: 100 }, f)) : f());
const per = MODE === 'par' ? 100 : 1;

if (process.env.CELL) {
  const f = cells[process.env.CELL];
  if (!f) throw new Error(`no cell ${process.env.CELL}`);
  for (let i = 0; i < 2000 / per; i++) await call(f);
  for (let i = 0, n = Number(process.env.N ?? 3000) / per; i < n; i++) await call(f);
} else {
  const samples = Object.fromEntries(Object.keys(cells).map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const names = Object.keys(cells);
    for (const name of [...names.slice(r % names.length), ...names.slice(0, r % names.length)]) {
      for (let i = 0; i < 50; i++) await call(cells[name]);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      let ops = 0;
      while (performance.now() - t0 < 150) {
        await call(cells[name]);
        ops += per;
      }
      const c = process.cpuUsage(c0);
      samples[name].push({ cpu: (c.user + c.system) / ops, hz: (ops * 1000) / (performance.now() - t0) });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = samples['raw GET'];
  console.log(
    `${MODE === 'par' ? '100 in flight' : 'one at a time'}, median of ${ROUNDS} rounds, ${new Date().toISOString()}`,
  );
  console.table(
    Object.entries(samples).map(([name, xs]) => ({
      command: name,
      'CPU µs/command': median(xs.map((x) => x.cpu)).toFixed(2),
      'x raw GET (CPU)': median(xs.map((x, i) => x.cpu / base[i].cpu)).toFixed(2),
      'ops/s': Math.round(median(xs.map((x) => x.hz))),
    })),
  );
}
for await (const keys of raw.scanStream({ match: `${RUN}*`, count: 1000 })) if (keys.length) await raw.unlink(...keys);
raw.disconnect();
rawTimed.disconnect();
await strata.close();
await noBreaker.close();
process.exit(0);
