/**
 * @stratacache/sql-cache against the same queries run on PostgreSQL, and a
 * cache hit against a raw Redis GET of the same bytes, in one run:
 *
 * 1. a heavy query (GROUP BY over ROWS rows, default 200k): uncached, cached (Redis tier, memory tier);
 * 2. a primary-key lookup: uncached, cached (Redis tier);
 * 3. a cache hit (Redis tier) against `GET` + decode of the same stored bytes with raw ioredis;
 * 4. parse overhead: libpg-query and node-sql-parser per distinct SQL text, the memo per repeated text.
 *
 * Each cell is a timed loop of awaited calls; the cells of a scenario alternate in 25 ms slices within a
 * round, and each number is the median of ROUNDS rounds (the shared machine's load moves between rounds).
 *
 * Run (after `pnpm build`; starts its own redis-server unless REDIS_URL is set; DATABASE_URL or the local
 * PostgreSQL at 127.0.0.1:5432 database test; its table lives in a schema of its own, dropped at the end):
 *   pnpm --filter @stratacache/bench sql-cache
 * Env: REDIS_URL, DATABASE_URL, ROWS (default 200000), ROUNDS (default 5), CELL_MS (default 300).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createRedis } from '@stratacache/core-client';
import { createInvalidationBus } from '@stratacache/invalidation';
import { createCache } from '@stratacache/patterns';
import { json } from '@stratacache/serializers';
import { createSqlCache, mysqlParser, postgresParser } from '@stratacache/sql-cache';
import { pgDriver } from '@stratacache/sql-cache/pg';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startServer } from '../lib/redis-server.mjs';

const ROWS = Number(process.env.ROWS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CELL_MS = Number(process.env.CELL_MS ?? 300);
const SLICE_MS = 25;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Ops/s of each cell (median of rounds) and each cell's ratio to the first (median of per-round ratios).
 * A cell is an async function doing one operation.
 */
async function compare(cells) {
  const names = Object.keys(cells);
  const perRound = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const ops = Object.fromEntries(names.map((n) => [n, 0]));
    const time = Object.fromEntries(names.map((n) => [n, 0]));
    const order = names.map((_, i) => names[(i + round) % names.length]);
    while (Math.min(...names.map((n) => time[n])) < CELL_MS) {
      for (const name of order) {
        const start = performance.now();
        let done = 0;
        while (performance.now() - start < SLICE_MS) {
          await cells[name]();
          done++;
        }
        ops[name] += done;
        time[name] += performance.now() - start;
      }
    }
    for (const n of names) perRound[n].push((ops[n] / time[n]) * 1000);
  }
  return names.map((n) => ({
    cell: n,
    opsPerSec: Math.round(median(perRound[n])),
    ratio: Number(median(perRound[n].map((v, i) => v / perRound[names[0]][i])).toFixed(2)),
  }));
}

function print(title, rows) {
  console.log(`\n${title}`);
  for (const r of rows) console.log(`  ${r.cell.padEnd(44)} ${String(r.opsPerSec).padStart(9)} ops/s  ${r.ratio}x`);
}

async function main() {
  const redisServer = await startServer();
  const prefix = `sb${randomBytes(4).toString('hex')}`;
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    max: 4,
  });
  const results = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, rows: ROWS };
  const redis = createRedis({ url: redisServer.url, env: {}, prefix });
  const raw = new Redis(redisServer.url);
  const stops = [];
  try {
    console.log(`seeding ${ROWS} rows in ${schema} ...`);
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.query(
      `CREATE TABLE ${schema}.sales (id int PRIMARY KEY, region int, product int, amount numeric(10,2), at timestamptz)`,
    );
    await pool.query(
      `INSERT INTO ${schema}.sales SELECT g, g % 20, g % 500, (g % 1000) / 10.0, now() - (g || ' minutes')::interval FROM generate_series(1, $1) g`,
      [ROWS],
    );
    await pool.query(`ANALYZE ${schema}.sales`);
    const heavy = `SELECT region, count(*)::int AS n, sum(amount)::float AS total, avg(amount)::float AS mean FROM ${schema}.sales GROUP BY region ORDER BY region`;
    const byId = `SELECT id, region, product, amount::float AS amount FROM ${schema}.sales WHERE id = $1`;

    // As the README sets it up: lazy tags and a bus (which keeps tag times current, so a hit is one GET).
    const bus = createInvalidationBus(redis);
    await bus.start();
    stops.push(() => bus.stop());
    const redisOnly = createCache({ redis, bus, namespace: 'sqlr', tags: 'lazy', memory: false, serializer: json() });
    const twoTier = createCache({ redis, bus, namespace: 'sqlm', tags: 'lazy', serializer: json() });
    const sqlR = createSqlCache({ cache: redisOnly, db: pgDriver(pool), redis, bus });
    const sqlM = createSqlCache({ cache: twoTier, db: pgDriver(pool), redis, bus });
    // Warm: one miss each, so every measured call is a hit.
    await sqlR.query(heavy);
    await sqlM.query(heavy);
    await sqlR.query(byId, [4242]);
    if ((await sqlR.query(heavy)).source !== 'cache') throw new Error('the heavy query is not served from the cache');

    const t0 = performance.now();
    await pool.query(heavy);
    console.log(`one heavy query: ${(performance.now() - t0).toFixed(1)} ms`);

    results.heavy = await compare({
      'heavy query, uncached (pg)': () => pool.query(heavy),
      'heavy query, sql-cache hit (Redis tier)': () => sqlR.query(heavy),
      'heavy query, sql-cache hit (memory tier)': () => sqlM.query(heavy),
    });
    print(`1. GROUP BY over ${ROWS} rows`, results.heavy);

    results.pk = await compare({
      'PK lookup, uncached (pg)': () => pool.query(byId, [4242]),
      'PK lookup, sql-cache hit (Redis tier)': () => sqlR.query(byId, [4242]),
    });
    print('2. primary-key lookup', results.pk);

    // The same bytes the hit decodes: the heavy query's rows, encoded by the same serializer, read with raw ioredis.
    const codec = json();
    const rawKey = `${prefix}:raw`;
    const payload = codec.encode((await sqlR.query(heavy)).rows);
    await raw.set(rawKey, payload);
    results.hitVsRaw = await compare({
      'raw ioredis GET + decode (same rows)': async () => codec.decode(await raw.getBuffer(rawKey)),
      'sql-cache hit (Redis tier)': () => sqlR.query(heavy),
    });
    results.valueBytes = payload.length;
    print('3. cache hit against a raw GET of the same bytes', results.hitVsRaw);

    const pgParser = postgresParser();
    const myParser = mysqlParser();
    await pgParser.load();
    await myParser.load().catch(() => {});
    let n = 0;
    results.parse = await compare({
      'libpg-query, distinct text': async () =>
        pgParser.analyze(`SELECT * FROM orders o JOIN items i ON i.order_id = o.id WHERE o.id = ${n++}`),
      'node-sql-parser (MySQL), distinct text': async () =>
        myParser.analyze(`SELECT * FROM orders o JOIN items i ON i.order_id = o.id WHERE o.id = ${n++}`),
      'sql-cache query, repeated text (memo + key)': () => sqlM.query(heavy),
    });
    print('4. parse overhead (the ratio column is against libpg-query)', results.parse);
    results.parse.forEach((r) => {
      r.microsPerOp = Number((1e6 / r.opsPerSec).toFixed(1));
    });

    mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
    const stamp = results.date.slice(0, 10);
    writeFileSync(
      new URL(`../results/sql-cache-${stamp}.json`, import.meta.url),
      `${JSON.stringify(results, null, 2)}\n`,
    );
    writeFileSync(
      new URL('../results/sql-cache-latest.json', import.meta.url),
      `${JSON.stringify(results, null, 2)}\n`,
    );
    const heavyRatio = results.heavy[1].ratio;
    const hitRatio = results.hitVsRaw[1].ratio;
    console.log(
      `\ncached heavy query ${heavyRatio}x the uncached one (target >= 20x): ${heavyRatio >= 20 ? 'met' : 'not yet'}`,
    );
    console.log(
      `cache hit ${hitRatio}x a raw GET of the same bytes (target >= 0.83x, within 1.2x): ${hitRatio >= 1 / 1.2 ? 'met' : 'not yet'}`,
    );
    sqlR.close();
    sqlM.close();
    redisOnly.close();
    twoTier.close();
  } finally {
    for (const stop of stops) await stop().catch(() => {});
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await pool.end();
    await redis.unlinkMatching(`${prefix}:*`).catch(() => {});
    await raw.del(`${prefix}:raw`).catch(() => {});
    raw.disconnect();
    await redis.close();
    redisServer.stop();
  }
}

await main();
