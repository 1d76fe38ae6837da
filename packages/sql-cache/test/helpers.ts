/**
 * What sql-cache's tests share: instances (Redis client, bus, Cache,
 * SqlCache) closed after the file, the databases from test-utils, a schema
 * (PostgreSQL) or table prefix (MySQL) per test, and a driver wrapper with
 * hooks to force interleavings. Every database is real.
 */
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createRedis, type RedisClientOptions, type StrataRedis } from '@stratacache/core-client';
import { createInvalidationBus, type InvalidationBus } from '@stratacache/invalidation';
import { type Cache, type CacheOptions, createCache } from '@stratacache/patterns';
import {
  NEEDS_POSTGRES_SERVER,
  type RedisServerHandle,
  resolveMysql,
  resolvePostgres,
  startRedisServer,
  withTestRedis,
} from '@stratacache/test-utils';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, expect, vi } from 'vitest';
import { createSqlCache, type SqlCache, type SqlCacheOptions, type SqlDriver } from '../src/index.js';

const redises: StrataRedis[] = [];
const buses: InvalidationBus[] = [];
const caches: Cache<unknown>[] = [];
const sqls: SqlCache[] = [];
const servers: RedisServerHandle[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

/** A random name part. */
export const hex = (bytes = 5) => randomBytes(bytes).toString('hex');

/** One instance of a service: its own Redis connection, bus, memory tier and SqlCache. */
export interface Instance {
  redis: StrataRedis;
  bus: InvalidationBus;
  cache: Cache<unknown>;
  sql: SqlCache;
}

/**
 * An instance over `db`. Instances given the same `prefix` share Redis keys
 * and the bus channel: two processes of one service.
 */
export async function instance(
  db: SqlDriver,
  options: {
    prefix?: string;
    redis?: RedisClientOptions;
    cache?: Omit<CacheOptions<unknown>, 'redis' | 'bus'>;
    sql?: Omit<SqlCacheOptions, 'cache' | 'db' | 'redis' | 'bus'>;
  } = {},
): Promise<Instance> {
  const redis = createRedis(withTestRedis({ prefix: options.prefix ?? `t-${hex()}`, ...options.redis }));
  redises.push(redis);
  const bus = createInvalidationBus(redis);
  await bus.start();
  buses.push(bus);
  const cache = createCache<unknown>({ namespace: 'sql', tags: 'lazy', ...options.cache, redis, bus });
  caches.push(cache);
  const sql = createSqlCache({ cache, db, redis, bus, ...options.sql });
  sqls.push(sql);
  return { redis, bus, cache, sql };
}

/** A private Redis for failure tests (pause, kill). */
export async function privateRedis(): Promise<RedisServerHandle> {
  const server = await startRedisServer();
  servers.push(server);
  return server;
}

let pgPool: pg.Pool | undefined;

/** The pg Pool of this file, on the test PostgreSQL server (DATABASE_URL or local). */
export async function pgPoolForTests(): Promise<pg.Pool> {
  if (pgPool) return pgPool;
  const resolved = await resolvePostgres();
  if (!resolved.url) throw new Error(NEEDS_POSTGRES_SERVER);
  const pool = new pg.Pool({ connectionString: resolved.url, max: 10 });
  pool.on('error', () => {}); // an idle client killed by a test is the test's business
  pgPool = pool;
  cleanups.push(() => pool.end());
  return pool;
}

/**
 * A schema of its own for one test, dropped (with everything in it) after
 * the file. Returns its name; write `${schema}.table` in SQL.
 */
export async function pgSchema(pool: { query(sql: string): Promise<unknown> }): Promise<string> {
  const schema = `sc_${hex()}`;
  await pool.query(`CREATE SCHEMA ${schema}`);
  cleanups.unshift(() => pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {}));
  return schema;
}

let mysqlPool: mysql.Pool | undefined;

/** The mysql2 pool of this file (MYSQL_URL or local; a clear error otherwise). */
export async function mysqlPoolForTests(): Promise<mysql.Pool> {
  if (mysqlPool) return mysqlPool;
  const resolved = await resolveMysql();
  const pool = mysql.createPool({ uri: resolved.url, connectionLimit: 10 });
  mysqlPool = pool;
  cleanups.push(() => pool.end());
  return pool;
}

/** A table-name prefix of its own for one MySQL test; `drop` lists tables to drop after the file. */
export function mysqlTables(pool: mysql.Pool): { prefix: string; drop(...tables: string[]): void } {
  const prefix = `t${hex(4)}_`;
  return {
    prefix,
    drop: (...tables) => {
      cleanups.unshift(() => pool.query(`DROP TABLE IF EXISTS ${tables.join(', ')}`).catch(() => {}));
    },
  };
}

/** Runs `fn` after the file, before the databases close (listeners, held connections). */
export function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.unshift(fn);
}

/** Retries `check` (an assertion) until it passes, for what arrives asynchronously (bus, NOTIFY). */
export function until(check: () => unknown | Promise<unknown>, timeoutMs = 10_000): Promise<unknown> {
  return vi.waitFor(check, { timeout: timeoutMs, interval: 20 });
}

/**
 * Reads until a read is served from the cache. The first read after an
 * invalidation comes from the database, and is not written back when it began
 * within the Redis clock's doubt of the invalidation (patterns README, Clocks:
 * any doubt counts as invalidated; on a loaded machine that doubt is a few ms),
 * so a test that needs a cached entry after a write asks for it this way.
 */
export function untilCached(read: () => Promise<unknown>, expected: Record<string, unknown>): Promise<unknown> {
  return until(async () => expect(await read()).toMatchObject({ ...expected, source: 'cache' }));
}

/** Collects messages of a diagnostics channel until `stop()`. */
export function listen(name: string): { messages: Record<string, unknown>[]; stop: () => void } {
  const messages: Record<string, unknown>[] = [];
  const handler = (m: unknown) => messages.push(m as Record<string, unknown>);
  subscribe(name, handler);
  return { messages, stop: () => unsubscribe(name, handler) };
}

/** A promise with its resolve exposed. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The real driver with hooks: `afterQuery(sql)` runs after the database
 * answered and before the answer goes back (a reader holding rows it read,
 * before its write-back); `afterTransaction()` runs after COMMIT and before
 * sql-cache hears of it (before the invalidation).
 */
export function hooked(
  inner: SqlDriver,
  hooks: { afterQuery?: (sql: string) => Promise<void> | void; afterTransaction?: () => Promise<void> | void },
): SqlDriver {
  return {
    ...inner,
    async query(sql, params) {
      const result = await inner.query(sql, params);
      await hooks.afterQuery?.(sql);
      return result;
    },
    async transaction(fn) {
      const value = await inner.transaction(fn);
      await hooks.afterTransaction?.();
      return value;
    },
  };
}

afterAll(async () => {
  for (const s of sqls) s.close();
  for (const c of caches) c.close();
  await Promise.all(buses.map((b) => b.stop().catch(() => {})));
  for (const redis of redises) await redis.unlinkMatching(`${redis.options.prefix}:*`).catch(() => 0);
  await Promise.all(redises.map((r) => r.close().catch(() => {})));
  for (const cleanup of cleanups) await cleanup();
  await Promise.all(servers.map((s) => s.stop()));
});
