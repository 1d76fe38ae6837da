/**
 * Two instances of a service (separate connections, buses and memory
 * tiers, one Redis): a write through one is a miss on the other, memory tier included.
 */

import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { pgDriver } from '../src/pg.js';
import { hex, instance, pgPoolForTests, pgSchema, until } from './helpers.js';

let pool: pg.Pool;
beforeAll(async () => {
  pool = await pgPoolForTests();
});

describe('two instances', () => {
  it("a write on one is a miss on the other's memory tier", async () => {
    const s = await pgSchema(pool);
    await pool.query(`CREATE TABLE ${s}.items (id int PRIMARY KEY, name text); INSERT INTO ${s}.items VALUES (1, 'a')`);
    const prefix = `t-${hex()}`;
    const a = await instance(pgDriver(pool), { prefix });
    const b = await instance(pgDriver(pool), { prefix });
    const read = (sql: typeof a.sql) => sql.query<{ name: string }>(`SELECT name FROM ${s}.items WHERE id = $1`, [1]);
    expect(await read(a.sql)).toMatchObject({ rows: [{ name: 'a' }], source: 'db' });
    // B finds it in Redis, then in its own memory.
    expect(await read(b.sql)).toMatchObject({ rows: [{ name: 'a' }], source: 'cache' });
    expect(b.cache.stats()).toMatchObject({ redisHits: 1 });
    expect(await read(b.sql)).toMatchObject({ source: 'cache' });
    expect(b.cache.stats()).toMatchObject({ memoryHits: 1 });
    await a.sql.query(`UPDATE ${s}.items SET name = 'b' WHERE id = 1`);
    // The bus reaches B's memory tier; the horizon kept B off its cache until it did.
    // (Until the horizon's close arrives, B reads the database without caching: a bypass.)
    await until(async () => expect(await read(b.sql)).toMatchObject({ rows: [{ name: 'b' }], source: 'db' }));
    const stats = b.sql.stats().tables.items;
    expect((stats?.misses ?? 0) + (stats?.bypasses ?? 0)).toBeGreaterThanOrEqual(1);
    expect(stats?.hits).toBe(2); // the two before the write, none after it
    await until(async () => expect(await read(b.sql)).toMatchObject({ rows: [{ name: 'b' }], source: 'cache' }));
  });

  it('invalidateTable on one instance drops the other instance memory copies', async () => {
    const s = await pgSchema(pool);
    await pool.query(`CREATE TABLE ${s}.items (id int PRIMARY KEY, name text); INSERT INTO ${s}.items VALUES (1, 'a')`);
    const prefix = `t-${hex()}`;
    const a = await instance(pgDriver(pool), { prefix });
    const b = await instance(pgDriver(pool), { prefix });
    const read = (sql: typeof a.sql) => sql.query(`SELECT name FROM ${s}.items`);
    await read(b.sql);
    expect((await read(b.sql)).source).toBe('cache');
    await pool.query(`UPDATE ${s}.items SET name = 'c'`); // behind sql-cache's back
    await a.sql.invalidateTable('items');
    await until(async () => expect(await read(b.sql)).toMatchObject({ rows: [{ name: 'c' }], source: 'db' }));
  });
});
