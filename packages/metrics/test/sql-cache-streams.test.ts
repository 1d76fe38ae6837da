/**
 * sql-cache and streams driven for real (a query cache over the test
 * PostgreSQL, an aggregator over a Redis Stream); their metrics read from a
 * real scrape, so the channel names and payloads of both sides cannot drift.
 */
import { createInvalidationBus } from '@stratacache/invalidation';
import { createCache } from '@stratacache/patterns';
import { createSqlCache } from '@stratacache/sql-cache';
import { pgDriver } from '@stratacache/sql-cache/pg';
import { createWindowAggregator, RedisStreamSource } from '@stratacache/streams';
import { NEEDS_POSTGRES_SERVER, resolvePostgres } from '@stratacache/test-utils';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { value } from './exposition.js';
import { client, eventually, later, metrics, scrape, unique } from './helpers.js';

describe('sql-cache metrics', () => {
  it('counts lookups per table and result, times queries by source, counts invalidations', async () => {
    const resolved = await resolvePostgres();
    if (!resolved.url) throw new Error(NEEDS_POSTGRES_SERVER);
    const pool = new pg.Pool({ connectionString: resolved.url, max: 2 });
    const schema = unique('m').replace(/-/g, '_');
    later(async () => {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await pool.end();
    });
    await pool.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.items (id int PRIMARY KEY, v int)`);
    await pool.query(`INSERT INTO ${schema}.items VALUES (1, 10)`);
    const redis = client();
    const bus = createInvalidationBus(redis);
    await bus.start();
    const cache = createCache({ redis, bus, tags: 'lazy', namespace: unique('sql') });
    const sql = createSqlCache({ cache, db: pgDriver(pool), redis, bus });
    later(async () => {
      cache.close();
      await bus.stop();
    });
    const m = metrics();
    const select = `SELECT v FROM ${schema}.items WHERE id = $1`;
    expect((await sql.query(select, [1])).source).toBe('db');
    expect((await sql.query(select, [1])).source).toBe('cache');
    await sql.query(`UPDATE ${schema}.items SET v = 11 WHERE id = 1`);
    const s = await scrape(m);
    expect(value(s, 'stratacache_sql_cache_lookups_total', { table: 'items', result: 'miss' })).toBe(1);
    expect(value(s, 'stratacache_sql_cache_lookups_total', { table: 'items', result: 'hit' })).toBe(1);
    expect(value(s, 'stratacache_sql_query_duration_seconds_count', { source: 'db' })).toBeGreaterThanOrEqual(1);
    expect(value(s, 'stratacache_sql_query_duration_seconds_count', { source: 'cache' })).toBe(1);
    expect(value(s, 'stratacache_sql_cache_invalidations_total', { table: 'items', source: 'write' })).toBe(1);
  });
});

describe('streams metrics', () => {
  it('counts applied records and batches of a real aggregator', async () => {
    const redis = client();
    const stream = `${redis.options.prefix}:orders`;
    const now = Date.now();
    for (let i = 0; i < 50; i++) await redis.client.xadd(stream, '*', 'time', String(now), 'amount', String(i));
    const m = metrics();
    const aggregator = createWindowAggregator({
      redis,
      source: new RedisStreamSource({ redis, stream, group: unique('g') }),
      windows: [{ name: unique('w'), size: '1m', grace: '10s', retention: '1h', fields: ['amount'] }],
    });
    later(() => aggregator.stop());
    await aggregator.start();
    await eventually(() => aggregator.stats().totals.records >= 50);
    await eventually(async () => {
      const s = await scrape(m);
      return value(s, 'stratacache_stream_records_total', { result: 'applied' }) >= 50;
    });
    const s = await scrape(m);
    expect(value(s, 'stratacache_stream_batch_duration_seconds_count', {})).toBeGreaterThanOrEqual(1);
  });
});
