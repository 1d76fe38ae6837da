/**
 * @stratacache/patterns Cache against raw ioredis (GET + JSON.parse of the same
 * value) and the peer caches, in one run on one Redis: bentocache,
 * cache-manager (keyv + @keyv/redis), cacheable (@keyv/redis) and
 * async-cache-dedupe (its redis storage). Every library is configured for the
 * tier the scenario measures (see bench/README.md, "patterns").
 *
 * Throughput cells are plain timed loops (each call of a cell does a batch of
 * awaited operations, so the loop's own cost stays out of memory-hit numbers);
 * within a round the libraries of a scenario alternate in 25 ms slices, and
 * each number is the median of ROUNDS rounds, each in a rotated library order. The
 * stampede runs 100 concurrent cold getOrSet with a 20 ms factory, in process
 * and across 4 forked processes (factory calls counted with INCR).
 *
 * Run (after building the packages; starts its own redis-server unless REDIS_URL is set):
 *   pnpm --filter @stratacache/bench patterns
 * Env: REDIS_URL, ROUNDS (default 5), CELL_MS (default 300 ms per library per round, run in
 * 25 ms slices that alternate between the libraries), ONLY (regex on scenario names).
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import KeyvRedis from '@keyv/redis';
import { createLocks } from '@stratacache/coordination';
import { createRedis } from '@stratacache/core-client';
import { createCache } from '@stratacache/patterns';
import { createCache as createDedupeCache } from 'async-cache-dedupe';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Cacheable, CacheableMemory } from 'cacheable';
import { Redis } from 'ioredis';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';
import { startServer } from '../lib/redis-server.mjs';

const FACTORY_MS = 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

// ------------------------------------------------------------------ worker mode (stampede across processes)

if (process.argv[2] === 'worker') {
  const [, , , url, run, withLock] = process.argv;
  const strata = createRedis({ url, env: {}, prefix: run });
  const cache = createCache({
    redis: strata,
    namespace: 'stampede',
    memory: { maxEntries: 1000 },
    defaults: { ttl: '1h' },
    ...(withLock === 'lock' ? { lock: createLocks(strata) } : {}),
  });
  await strata.client.ping();
  process.on('message', async (msg) => {
    if (msg.type === 'stop') {
      cache.close();
      await strata.close();
      process.exit(0);
    }
    const { key, concurrency } = msg;
    let factory = null;
    const load = async () => {
      const t0 = now();
      await strata.client.incr(`${run}:stampede-calls:${key}`);
      await sleep(FACTORY_MS);
      factory = { start: t0, end: now() };
      return { key, at: Date.now() };
    };
    const start = now();
    await Promise.all(Array.from({ length: concurrency }, () => cache.getOrSet(key, load)));
    process.send({ type: 'done', start, end: now(), factory });
  });
  process.send({ type: 'ready' });
} else {
  await main();
}

/** Stops the redis-server this run started, whatever happens. */
function stopOnExit(server) {
  process.once('exit', () => server.stop());
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
}

// ------------------------------------------------------------------ main

/** A JSON value of about `bytes` bytes, shaped like an API record. */
function makeValue(bytes) {
  const value = {
    id: 42,
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    active: true,
    roles: ['admin', 'dev'],
    items: [],
  };
  let i = 0;
  while (JSON.stringify(value).length < bytes)
    value.items.push({ i: i++, sku: `SKU-${i * 7919}`, qty: i % 9, price: 9.99 });
  return value;
}

async function main() {
  const ROUNDS = Number(process.env.ROUNDS ?? 5);
  const CELL_MS = Number(process.env.CELL_MS ?? 300);
  const SLICE_MS = 25;
  const only = process.env.ONLY ? new RegExp(process.env.ONLY) : null;
  const server = await startServer();
  stopOnExit(server);
  const url = server.url;
  const RUN = `pb${randomBytes(4).toString('hex')}`;
  const KEYS = Array.from({ length: 100 }, (_, i) => `k${i}`);
  const values = { small: makeValue(200), '1KB': makeValue(1024), '100KB': makeValue(100 * 1024) };
  const TTL_S = 3600;

  // ---- clients: one connection per library, so nobody shares a pipeline with another
  const raw = new Redis(url);
  const strata = createRedis({ url, env: {}, prefix: RUN });
  const closers = [() => raw.disconnect(), () => strata.close()];

  // ---- ours
  const oursRedis = createCache({ redis: strata, namespace: 'r', memory: false, defaults: { ttl: '1h' } });
  const oursTwo = createCache({
    redis: strata,
    namespace: 't',
    memory: { maxEntries: 10_000 },
    defaults: { ttl: '1h' },
  });
  const oursBig = createCache({ redis: strata, namespace: 'b', memory: false, defaults: { ttl: '1h' } });
  // The same keys as oursRedis, one GET per read: the per-operation cost without auto-batching.
  const oursDirect = createCache({
    redis: strata,
    namespace: 'r',
    memory: false,
    batchReads: false,
    defaults: { ttl: '1h' },
  });

  // ---- bentocache: L2 only (redis driver) / L1 (memory, no serialize, like ours) + L2
  const bentoConn = new Redis(url);
  const bento = new BentoCache({
    default: 'redis',
    ttl: '1h',
    stores: {
      redis: bentostore().useL2Layer(redisDriver({ connection: bentoConn, prefix: `${RUN}:bento` })),
      two: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000, serialize: false }))
        .useL2Layer(redisDriver({ connection: bentoConn, prefix: `${RUN}:bento2` })),
    },
  });
  const bentoRedis = bento.use('redis');
  const bentoTwo = bento.use('two');
  closers.push(() => bento.disconnectAll());

  // ---- cache-manager: stores [redis] / [CacheableMemory (no clone), redis]
  const cmRedisStore = new Keyv({ store: new KeyvRedis(url), namespace: `${RUN}-cm` });
  const cmRedis = createCacheManager({ stores: [cmRedisStore], ttl: TTL_S * 1000 });
  const cmTwo = createCacheManager({
    stores: [
      new Keyv({ store: new CacheableMemory({ lruSize: 10_000, useClone: false }) }),
      new Keyv({ store: new KeyvRedis(url), namespace: `${RUN}-cm2` }),
    ],
    ttl: TTL_S * 1000,
  });
  closers.push(
    () => cmRedis.disconnect(),
    () => cmTwo.disconnect(),
  );

  // ---- cacheable: primary redis / primary CacheableMemory (no clone) + secondary redis
  const cblRedis = new Cacheable({
    primary: new Keyv({ store: new KeyvRedis(url), namespace: `${RUN}-cbl` }),
    ttl: '1h',
  });
  const cblTwo = new Cacheable({
    primary: new Keyv({ store: new CacheableMemory({ lruSize: 10_000, useClone: false }) }),
    secondary: new Keyv({ store: new KeyvRedis(url), namespace: `${RUN}-cbl2` }),
    ttl: '1h',
  });
  closers.push(
    () => cblRedis.disconnect(),
    () => cblTwo.disconnect(),
  );

  // ---- async-cache-dedupe: redis storage / memory storage. Its only read is the defined function (a getOrSet).
  const acdConn = new Redis(url, { keyPrefix: `${RUN}:acd:` });
  const acdSeed = new Map();
  const acdRedis = createDedupeCache({ ttl: TTL_S, storage: { type: 'redis', options: { client: acdConn } } });
  acdRedis.define('load', async (k) => acdSeed.get(k));
  const acdTwo = createDedupeCache({ ttl: TTL_S, storage: { type: 'memory', options: { size: 10_000 } } });
  acdTwo.define('load', async (k) => acdSeed.get(k));
  closers.push(() => acdConn.disconnect());

  const lru = new LRUCache({ max: 10_000 });

  // ---- seed: every library writes its own keys through its own API
  const rk = (k) => `${RUN}:raw:${k}`;
  const sizedKey = (size, k) => `${size}-${k}`;
  for (const k of KEYS) {
    const v = values.small;
    await raw.set(rk(k), JSON.stringify(v), 'EX', TTL_S);
    await oursRedis.set(k, v);
    await oursTwo.set(k, v);
    await bentoRedis.set({ key: k, value: v });
    await bentoTwo.set({ key: k, value: v });
    await cmRedis.set(k, v);
    await cmTwo.set(k, v);
    await cblRedis.set(k, v);
    await cblTwo.set(k, v);
    acdSeed.set(k, v);
    await acdRedis.load(k);
    await acdTwo.load(k);
    lru.set(k, v);
    for (const size of ['1KB', '100KB']) {
      const sk = sizedKey(size, k);
      const sv = values[size];
      await raw.set(rk(sk), JSON.stringify(sv), 'EX', TTL_S);
      await oursBig.set(sk, sv);
      await bentoRedis.set({ key: sk, value: sv });
      await cmRedis.set(sk, sv);
      await cblRedis.set(sk, sv);
      acdSeed.set(sk, sv);
      await acdRedis.load(sk);
    }
  }
  acdSeed.clear(); // from here on, a miss in async-cache-dedupe would return undefined and show up in checks
  const mustThrow = () => {
    throw new Error('factory called on a hit');
  };

  // ---- sanity: every reader returns the seeded value (a misconfigured peer would measure misses)
  const checks = {
    raw: async () => JSON.parse(await raw.get(rk('k1'))),
    oursRedis: () => oursRedis.get('k1'),
    oursTwo: () => oursTwo.get('k1'),
    bentoRedis: () => bentoRedis.get({ key: 'k1' }),
    bentoTwo: () => bentoTwo.get({ key: 'k1' }),
    cmRedis: () => cmRedis.get('k1'),
    cmTwo: () => cmTwo.get('k1'),
    cblRedis: () => cblRedis.get('k1'),
    cblTwo: () => cblTwo.get('k1'),
    acdRedis: () => acdRedis.load('k1'),
    acdTwo: () => acdTwo.load('k1'),
  };
  for (const [name, check] of Object.entries(checks)) {
    const got = await check();
    try {
      assert.deepStrictEqual(got, values.small);
    } catch {
      throw new Error(`${name} did not return the seeded value: ${JSON.stringify(got)?.slice(0, 80)}`);
    }
  }

  // ---- scenarios: each cell is a function doing `per` operations
  const seq = (per, op) => ({
    per,
    fn: async () => {
      for (let i = 0; i < per; i++) await op(KEYS[i % 100]);
    },
  });
  const par = (op) => ({ per: 100, fn: () => Promise.all(KEYS.map(op)) });
  // 100 callers, each awaiting its own operations one after another (a server with 100 requests in
  // flight): they start together, then each issues its next read when its reply arrives.
  const LOOPS = 5;
  const callers = (op) => ({
    per: 100 * LOOPS,
    fn: () =>
      Promise.all(
        KEYS.map(async (_, w) => {
          for (let i = 0; i < LOOPS; i++) await op(KEYS[(w * 7 + i) % 100]);
        }),
      ),
  });
  const once = (op) => ({ per: 1, fn: op });

  const RAW = 'raw ioredis';
  const OURS = 'stratacache';
  const OURS_DIRECT = 'stratacache (batchReads: false)';
  const rawGet = async (k) => JSON.parse(await raw.get(rk(k)));
  const SEQ = 50; // Redis round trips per cell call
  const MEM = 2000; // memory hits per cell call

  const scenarios = [
    {
      name: '1 redis hit, sequential',
      cells: {
        [RAW]: seq(SEQ, rawGet),
        [OURS]: seq(SEQ, (k) => oursRedis.get(k)),
        [OURS_DIRECT]: seq(SEQ, (k) => oursDirect.get(k)),
        bentocache: seq(SEQ, (k) => bentoRedis.get({ key: k })),
        'cache-manager': seq(SEQ, (k) => cmRedis.get(k)),
        cacheable: seq(SEQ, (k) => cblRedis.get(k)),
        'async-cache-dedupe': seq(SEQ, (k) => acdRedis.load(k)),
      },
    },
    {
      name: '2 redis hit, burst of 100 (Promise.all)',
      cells: {
        [RAW]: par(rawGet),
        [OURS]: par((k) => oursRedis.get(k)),
        [OURS_DIRECT]: par((k) => oursDirect.get(k)),
        bentocache: par((k) => bentoRedis.get({ key: k })),
        'cache-manager': par((k) => cmRedis.get(k)),
        cacheable: par((k) => cblRedis.get(k)),
        'async-cache-dedupe': par((k) => acdRedis.load(k)),
      },
    },
    {
      name: '2b redis hit, 100 callers in flight',
      cells: {
        [RAW]: callers(rawGet),
        [OURS]: callers((k) => oursRedis.get(k)),
        [OURS_DIRECT]: callers((k) => oursDirect.get(k)),
        bentocache: callers((k) => bentoRedis.get({ key: k })),
        'async-cache-dedupe': callers((k) => acdRedis.load(k)),
      },
    },
    {
      name: '3b getOrSet hit, burst of 100 (Promise.all)',
      cells: {
        [RAW]: par(rawGet),
        [OURS]: par((k) => oursRedis.getOrSet(k, mustThrow)),
        [OURS_DIRECT]: par((k) => oursDirect.getOrSet(k, mustThrow)),
        bentocache: par((k) => bentoRedis.getOrSet({ key: k, factory: mustThrow })),
        'async-cache-dedupe': par((k) => acdRedis.load(k)),
      },
    },
    {
      name: '3c getOrSet hit, 100 callers in flight',
      cells: {
        [RAW]: callers(rawGet),
        [OURS]: callers((k) => oursRedis.getOrSet(k, mustThrow)),
        [OURS_DIRECT]: callers((k) => oursDirect.getOrSet(k, mustThrow)),
        bentocache: callers((k) => bentoRedis.getOrSet({ key: k, factory: mustThrow })),
        'async-cache-dedupe': callers((k) => acdRedis.load(k)),
      },
    },
    {
      name: '3 getOrSet hit, redis tier',
      cells: {
        [RAW]: seq(SEQ, rawGet),
        [OURS]: seq(SEQ, (k) => oursRedis.getOrSet(k, mustThrow)),
        [OURS_DIRECT]: seq(SEQ, (k) => oursDirect.getOrSet(k, mustThrow)),
        bentocache: seq(SEQ, (k) => bentoRedis.getOrSet({ key: k, factory: mustThrow })),
        'cache-manager': seq(SEQ, (k) => cmRedis.wrap(k, mustThrow)),
        cacheable: seq(SEQ, (k) => cblRedis.getOrSet(k, mustThrow)),
        'async-cache-dedupe': seq(SEQ, (k) => acdRedis.load(k)),
      },
    },
    {
      name: '4 memory hit, awaited',
      cells: {
        [RAW]: seq(SEQ, rawGet),
        'lru-cache get (floor)': seq(MEM, async (k) => lru.get(k)),
        [OURS]: seq(MEM, (k) => oursTwo.get(k)),
        bentocache: seq(MEM, (k) => bentoTwo.get({ key: k })),
        'cache-manager': seq(MEM, (k) => cmTwo.get(k)),
        cacheable: seq(MEM, (k) => cblTwo.get(k)),
        'async-cache-dedupe': seq(MEM, (k) => acdTwo.load(k)),
      },
    },
    {
      name: '4b memory getOrSet hit, awaited',
      cells: {
        [RAW]: seq(SEQ, rawGet),
        [OURS]: seq(MEM, (k) => oursTwo.getOrSet(k, mustThrow)),
        bentocache: seq(MEM, (k) => bentoTwo.getOrSet({ key: k, factory: mustThrow })),
        'cache-manager': seq(MEM, (k) => cmTwo.wrap(k, mustThrow)),
        cacheable: seq(MEM, (k) => cblTwo.getOrSet(k, mustThrow)),
        'async-cache-dedupe': seq(MEM, (k) => acdTwo.load(k)),
      },
    },
    {
      name: '5 two tiers, memory hit, 100 in flight',
      cells: {
        [RAW]: par(rawGet),
        [OURS]: par((k) => oursTwo.get(k)),
        bentocache: par((k) => bentoTwo.get({ key: k })),
        'cache-manager': par((k) => cmTwo.get(k)),
        cacheable: par((k) => cblTwo.get(k)),
        'async-cache-dedupe': par((k) => acdTwo.load(k)),
      },
    },
    {
      name: '7 getMany of 100 keys (redis)',
      unit: 'calls',
      cells: {
        [RAW]: once(async () => (await raw.mget(KEYS.map(rk))).map((s) => JSON.parse(s))),
        [OURS]: once(() => oursRedis.getMany(KEYS)),
        'bentocache (Promise.all get)': once(() => Promise.all(KEYS.map((k) => bentoRedis.get({ key: k })))),
        'cache-manager (mget)': once(() => cmRedis.mget(KEYS)),
        'cacheable (getMany)': once(() => cblRedis.getMany(KEYS)),
        'async-cache-dedupe (Promise.all)': once(() => Promise.all(KEYS.map((k) => acdRedis.load(k)))),
      },
    },
    ...['1KB', '100KB'].map((size) => {
      const n = size === '1KB' ? SEQ : 5;
      return {
        name: `8 redis hit, ${size} value`,
        cells: {
          [RAW]: seq(n, (k) => rawGet(sizedKey(size, k))),
          [OURS]: seq(n, (k) => oursBig.get(sizedKey(size, k))),
          bentocache: seq(n, (k) => bentoRedis.get({ key: sizedKey(size, k) })),
          'cache-manager': seq(n, (k) => cmRedis.get(sizedKey(size, k))),
          cacheable: seq(n, (k) => cblRedis.get(sizedKey(size, k))),
          'async-cache-dedupe': seq(n, (k) => acdRedis.load(sizedKey(size, k))),
        },
      };
    }),
  ].filter((s) => !only || only.test(s.name));

  // Checks the sized values once too.
  for (const s of scenarios.filter((x) => x.name.startsWith('8'))) {
    for (const [lib, cell] of Object.entries(s.cells)) {
      await cell.fn();
      void lib;
    }
  }

  /**
   * One round of a scenario: the libraries take turns in short slices (in a
   * rotated order) until each has run about `ms`, so a noisy neighbour on the
   * shared machine slows every library of the scenario alike. Resolves ops/s per library.
   */
  async function measureRound(s, order, ms) {
    const acc = new Map(order.map((lib) => [lib, { ops: 0, time: 0 }]));
    for (const lib of order) {
      const warmEnd = performance.now() + 30;
      while (performance.now() < warmEnd) await s.cells[lib].fn();
    }
    const slices = Math.max(1, Math.round(ms / SLICE_MS));
    for (let i = 0; i < slices; i++) {
      for (const lib of order) {
        const cell = s.cells[lib];
        const a = acc.get(lib);
        const t0 = performance.now();
        let t = t0;
        do {
          await cell.fn();
          a.ops += cell.per;
          t = performance.now();
        } while (t - t0 < SLICE_MS);
        a.time += t - t0;
      }
    }
    return new Map([...acc].map(([lib, a]) => [lib, (a.ops * 1000) / a.time]));
  }

  const samples = new Map(); // `${scenario}\u0000${lib}` -> number[]
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of scenarios) {
      const libs = Object.keys(s.cells);
      const order = [...libs.slice(round % libs.length), ...libs.slice(0, round % libs.length)];
      const hz = await measureRound(s, order, CELL_MS);
      for (const lib of libs) {
        const id = `${s.name}\u0000${lib}`;
        if (!samples.has(id)) samples.set(id, []);
        samples.get(id).push(hz.get(lib));
      }
    }
    process.stderr.write(
      `round ${round + 1}/${ROUNDS} done at ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
    );
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const rows = [];
  for (const s of scenarios) {
    const rawXs = samples.get(`${s.name}\u0000${RAW}`);
    for (const lib of Object.keys(s.cells)) {
      const xs = samples.get(`${s.name}\u0000${lib}`);
      const hz = median(xs);
      // The ratio pairs each round with the same round of raw ioredis (the machine's load moves between rounds).
      const ratio = median(xs.map((x, i) => x / rawXs[i]));
      rows.push({
        scenario: s.name,
        library: lib,
        opsPerSec: Math.round(hz),
        unit: s.unit ?? 'ops',
        ratioToRaw: Number(ratio.toFixed(3)),
        spread: Number(((Math.max(...xs) - Math.min(...xs)) / hz).toFixed(2)),
        ratioSpread: Number(
          ((Math.max(...xs.map((x, i) => x / rawXs[i])) - Math.min(...xs.map((x, i) => x / rawXs[i]))) / ratio).toFixed(
            2,
          ),
        ),
        samples: xs.map(Math.round),
      });
    }
  }

  // ---- 6: stampede, in process
  const stampede = [];
  if (!only || only.test('6 stampede')) {
    const REPS = 5;
    const libs = {
      [RAW]: (key, factory) => async () => {
        const hit = await raw.get(rk(key));
        if (hit !== null) return JSON.parse(hit);
        const v = await factory();
        await raw.set(rk(key), JSON.stringify(v), 'EX', TTL_S);
        return v;
      },
      [OURS]: (key, factory) => () => oursRedis.getOrSet(key, factory),
      [`${OURS} (two tiers)`]: (key, factory) => () => oursTwo.getOrSet(key, factory),
      bentocache: (key, factory) => () => bentoRedis.getOrSet({ key, factory }),
      'cache-manager (wrap)': (key, factory) => () => cmRedis.wrap(key, factory),
      cacheable: (key, factory) => () => cblRedis.getOrSet(key, factory),
      'async-cache-dedupe': (key, factory) => {
        // A cold key: define a fresh function so nothing is cached.
        const name = `cold${randomBytes(4).toString('hex')}`;
        acdRedis.define(name, () => factory());
        return () => acdRedis[name](key);
      },
    };
    for (const [lib, make] of Object.entries(libs)) {
      const calls = [];
      const bursts = [];
      const ratios = [];
      for (let rep = 0; rep < REPS; rep++) {
        let n = 0;
        let longest = 0;
        const key = `cold-${rep}-${randomBytes(4).toString('hex')}`;
        const factory = async () => {
          n++;
          const f0 = performance.now();
          await sleep(FACTORY_MS);
          longest = Math.max(longest, performance.now() - f0);
          return { key, rep };
        };
        const op = make(key, factory);
        const t0 = performance.now();
        await Promise.all(Array.from({ length: 100 }, op));
        bursts.push(performance.now() - t0);
        ratios.push((performance.now() - t0) / longest);
        calls.push(n);
      }
      stampede.push({
        scenario: '6 stampede, 1 process x 100',
        library: lib,
        factoryCalls: Math.max(...calls),
        burstMs: Number(median(bursts).toFixed(1)),
        burstOverFactory: Number(median(ratios).toFixed(2)),
        samples: {
          calls,
          bursts: bursts.map((b) => Number(b.toFixed(1))),
          ratios: ratios.map((r) => Number(r.toFixed(2))),
        },
      });
    }

    // ---- 6: stampede, 4 processes x 100, with and without the lock
    for (const mode of ['lock', 'nolock']) {
      const workers = Array.from({ length: 4 }, () =>
        fork(fileURLToPath(import.meta.url), ['worker', url, RUN, mode], { stdio: 'inherit' }),
      );
      const nextMessage = (w, type) =>
        new Promise((resolve) => {
          const on = (m) => {
            if (m.type === type) {
              w.off('message', on);
              resolve(m);
            }
          };
          w.on('message', on);
        });
      await Promise.all(workers.map((w) => nextMessage(w, 'ready')));
      const calls = [];
      const bursts = [];
      const ratios = [];
      const phases = { skew: [], toFactory: [], afterFactory: [] };
      for (let rep = 0; rep < REPS; rep++) {
        const key = `multi-${mode}-${rep}-${randomBytes(4).toString('hex')}`;
        const done = workers.map((w) => nextMessage(w, 'done'));
        for (const w of workers) w.send({ key, concurrency: 100 });
        const results = await Promise.all(done);
        const first = Math.min(...results.map((r) => r.start));
        const last = Math.max(...results.map((r) => r.end));
        const factories = results.map((r) => r.factory).filter(Boolean);
        // The factory's own time as it ran (a 20 ms sleep runs longer on a loaded machine), with its INCR.
        const factoryMs = Math.max(...factories.map((f) => f.end - f.start));
        bursts.push(last - first);
        ratios.push((last - first) / factoryMs);
        phases.skew.push(Math.max(...results.map((r) => r.start)) - first);
        phases.toFactory.push(Math.min(...factories.map((f) => f.start)) - first);
        phases.afterFactory.push(last - Math.max(...factories.map((f) => f.end)));
        calls.push(Number(await raw.get(`${RUN}:stampede-calls:${key}`)));
      }
      for (const w of workers) w.send({ type: 'stop' });
      await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
      stampede.push({
        scenario: `6 stampede, 4 processes x 100, ${{ lock: 'lock', nolock: 'no lock' }[mode]}`,
        library: OURS,
        factoryCalls: Math.max(...calls),
        burstMs: Number(median(bursts).toFixed(1)),
        burstOverFactory: Number(median(ratios).toFixed(2)),
        phasesMs: Object.fromEntries(Object.entries(phases).map(([k, xs]) => [k, Number(median(xs).toFixed(1))])),
        samples: {
          calls,
          bursts: bursts.map((b) => Number(b.toFixed(1))),
          ratios: ratios.map((r) => Number(r.toFixed(2))),
        },
      });
    }
  }

  // ---- report
  const redisVersion = (await raw.info('server')).match(/redis_version:(\S+)/)[1];
  const header = `node ${process.version}, redis ${redisVersion}, ${os.cpus().length} x ${os.cpus()[0]?.model}, median of ${ROUNDS} rotated rounds of ${CELL_MS} ms per library (ratio: median of per-round ratios), ${new Date().toISOString()}`;
  console.log(header);
  console.table(
    rows.map((r) => ({
      scenario: r.scenario,
      library: r.library,
      [`median ${'ops'}/s`]: r.opsPerSec,
      'x raw ioredis': r.ratioToRaw.toFixed(2),
      'ops/s spread': `${Math.round(r.spread * 100)}%`,
      'ratio spread': `${Math.round(r.ratioSpread * 100)}%`,
    })),
  );
  if (stampede.length > 0) {
    console.log(
      `stampede: 100 concurrent cold getOrSet per process, ${FACTORY_MS} ms factory, median of 5 bursts (calls: max); ` +
        'x factory: the burst over the factory time measured in the same burst (a sleep runs long on a loaded machine); ' +
        'across processes: start skew of the 4 processes, burst start to factory start, factory end to the last answer',
    );
    console.table(
      stampede.map((s) => ({
        scenario: s.scenario,
        library: s.library,
        'factory calls': s.factoryCalls,
        'burst ms': s.burstMs,
        'x factory': s.burstOverFactory.toFixed(2),
        'skew / to factory / after, ms': s.phasesMs
          ? `${s.phasesMs.skew} / ${s.phasesMs.toFactory} / ${s.phasesMs.afterFactory}`
          : '',
      })),
    );
  }

  const cell = (scenario, lib) => rows.find((r) => r.scenario === scenario && r.library === lib);
  const targets = [];
  const target = (name, row, ok, value) => row && targets.push({ target: name, value, pass: ok });
  const ratioTarget = (scenario, lib, min, label) => {
    const row = cell(scenario, lib);
    target(`${label} >= ${min.toFixed(2)}x raw`, row, row?.ratioToRaw >= min, row?.ratioToRaw);
  };
  ratioTarget('1 redis hit, sequential', OURS, 0.95, 'redis hit, sequential');
  ratioTarget('2 redis hit, burst of 100 (Promise.all)', OURS, 1.5, 'redis hit, burst of 100 (auto-batched)');
  ratioTarget(
    '2 redis hit, burst of 100 (Promise.all)',
    OURS_DIRECT,
    0.95,
    'redis hit, burst of 100, batchReads: false',
  );
  ratioTarget('2b redis hit, 100 callers in flight', OURS, 0.95, 'redis hit, 100 callers in flight');
  ratioTarget('3 getOrSet hit, redis tier', OURS, 0.95, 'getOrSet hit, sequential');
  ratioTarget('3b getOrSet hit, burst of 100 (Promise.all)', OURS, 0.95, 'getOrSet hit, burst of 100');
  ratioTarget(
    '3b getOrSet hit, burst of 100 (Promise.all)',
    OURS_DIRECT,
    0.95,
    'getOrSet hit, burst of 100, batchReads: false',
  );
  ratioTarget('3c getOrSet hit, 100 callers in flight', OURS, 0.95, 'getOrSet hit, 100 callers in flight');
  ratioTarget('7 getMany of 100 keys (redis)', OURS, 0.9, 'getMany(100) vs one raw MGET + parse');
  const r4 = cell('4 memory hit, awaited', OURS);
  target('memory hit awaited >= 1.5M ops/s', r4, r4?.opsPerSec >= 1_500_000, r4?.opsPerSec);
  const s1 = stampede.find((s) => s.scenario === '6 stampede, 1 process x 100' && s.library === OURS);
  target('stampede (1 process): 1 factory call', s1, s1?.factoryCalls === 1, s1?.factoryCalls);
  target('stampede (1 process): burst <= 1.1x factory', s1, s1?.burstOverFactory <= 1.1, s1?.burstOverFactory);
  const s4 = stampede.find((s) => s.scenario === '6 stampede, 4 processes x 100, lock');
  target('stampede (4 processes, lock): 1 factory call', s4, s4?.factoryCalls === 1, s4?.factoryCalls);
  target('stampede (4 processes, lock): burst <= 1.1x factory', s4, s4?.burstOverFactory <= 1.1, s4?.burstOverFactory);
  for (const r of ['1KB', '100KB']) {
    const row = cell(`8 redis hit, ${r} value`, OURS);
    target(`redis hit ${r} >= 0.95x raw`, row, row?.ratioToRaw >= 0.95, row?.ratioToRaw);
  }
  console.log('targets:');
  console.table(targets.map((t) => ({ target: t.target, value: t.value, result: t.pass ? 'pass' : 'FAIL' })));

  if (!only) {
    const dir = fileURLToPath(new URL('../results/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    const report = {
      benchmark: 'patterns/cache-vs-peers',
      header,
      node: process.version,
      redis: redisVersion,
      cpus: `${os.cpus().length} x ${os.cpus()[0]?.model}`,
      date: new Date().toISOString(),
      rounds: ROUNDS,
      cellMs: CELL_MS,
      factoryMs: FACTORY_MS,
      rows,
      stampede,
      targets,
    };
    const text = `${JSON.stringify(report, null, 2)}\n`;
    writeFileSync(`${dir}patterns-${report.date.slice(0, 10)}.json`, text);
    writeFileSync(`${dir}patterns-latest.json`, text);
    console.log(`wrote bench/results/patterns-${report.date.slice(0, 10)}.json and patterns-latest.json`);
  }

  // ---- cleanup: our keys only (everything written starts with RUN)
  let removed = 0;
  for (const pattern of [`${RUN}*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) removed += await raw.unlink(...keys);
    } while (cursor !== '0');
  }
  console.log(`removed ${removed} keys with prefix ${RUN}`);
  oursRedis.close();
  oursTwo.close();
  oursBig.close();
  oursDirect.close();
  for (const close of closers) await Promise.resolve(close()).catch(() => {});
  server.stop();
  process.exit(0);
}
