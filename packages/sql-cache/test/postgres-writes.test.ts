/**
 * Every write path invalidates the tables it wrote, on PostgreSQL through
 * the pg adapter (a Pool): each test in a schema of its own.
 */

import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlCacheChannels } from '../src/index.js';
import { pgDriver } from '../src/pg.js';
import { deferred, hooked, instance, listen, pgPoolForTests, pgSchema, untilCached } from './helpers.js';

let pool: pg.Pool;
beforeAll(async () => {
  pool = await pgPoolForTests();
});

/** A schema with `orders` (id, customer, total), `customers` and `staging`, and an instance over it. */
async function setup() {
  const s = await pgSchema(pool);
  await pool.query(`
    CREATE TABLE ${s}.customers (id int PRIMARY KEY, name text, gone boolean DEFAULT false);
    CREATE TABLE ${s}.orders (id int PRIMARY KEY, customer int REFERENCES ${s}.customers(id) ON DELETE CASCADE, total int);
    CREATE TABLE ${s}.staging (id int PRIMARY KEY, total int);
    INSERT INTO ${s}.customers VALUES (1, 'ada'), (2, 'bob');
    INSERT INTO ${s}.orders VALUES (1, 1, 10), (2, 2, 20);
    INSERT INTO ${s}.staging VALUES (1, 100), (3, 300);
  `);
  const inst = await instance(pgDriver(pool));
  const total = async () => {
    const r = await inst.sql.query<{ total: number }>(`SELECT coalesce(sum(total), 0)::int AS total FROM ${s}.orders`);
    return { total: r.rows[0]?.total, source: r.source };
  };
  return { s, ...inst, total };
}

describe('reads', () => {
  it('caches a read and serves it from the cache until a write', async () => {
    const { total, sql } = await setup();
    expect(await total()).toEqual({ total: 30, source: 'db' });
    expect(await total()).toEqual({ total: 30, source: 'cache' });
    expect(sql.stats().tables.orders).toMatchObject({ hits: 1, misses: 1 });
  });

  it('keys by parameters: another parameter is another entry', async () => {
    const { s, sql } = await setup();
    const byId = (id: number) => sql.query(`SELECT total FROM ${s}.orders WHERE id = $1`, [id]);
    expect((await byId(1)).rows).toEqual([{ total: 10 }]);
    expect((await byId(2)).rows).toEqual([{ total: 20 }]);
    expect((await byId(1)).source).toBe('cache');
  });
});

describe('every write path invalidates', () => {
  const writes: Array<[string, (s: string) => string, number]> = [
    ['INSERT', (s) => `INSERT INTO ${s}.orders VALUES (3, 1, 5)`, 35],
    ['UPDATE', (s) => `UPDATE ${s}.orders SET total = total + 1 WHERE id = 1`, 31],
    ['DELETE', (s) => `DELETE FROM ${s}.orders WHERE id = 2`, 10],
    [
      'upsert (INSERT ... ON CONFLICT)',
      (s) => `INSERT INTO ${s}.orders VALUES (1, 1, 50) ON CONFLICT (id) DO UPDATE SET total = EXCLUDED.total`,
      70,
    ],
    [
      'UPDATE ... FROM',
      (s) => `UPDATE ${s}.orders o SET total = st.total FROM ${s}.staging st WHERE st.id = o.id`,
      120,
    ],
    [
      'DELETE ... USING',
      (s) => `DELETE FROM ${s}.orders o USING ${s}.customers c WHERE c.id = o.customer AND c.name = 'bob'`,
      10,
    ],
    [
      'a data-modifying CTE',
      (s) =>
        `WITH moved AS (DELETE FROM ${s}.staging RETURNING id, total) INSERT INTO ${s}.orders SELECT id + 10, 1, total FROM moved`,
      430,
    ],
    [
      'a CTE write inside a SELECT',
      (s) => `WITH gone AS (DELETE FROM ${s}.orders WHERE id = 1 RETURNING *) SELECT count(*) FROM gone`,
      20,
    ],
    [
      'MERGE',
      (s) =>
        `MERGE INTO ${s}.orders o USING ${s}.staging st ON o.id = st.id WHEN MATCHED THEN UPDATE SET total = st.total WHEN NOT MATCHED THEN INSERT VALUES (st.id, 1, st.total)`,
      420,
    ],
    ['TRUNCATE', (s) => `TRUNCATE ${s}.orders`, 0],
    [
      'several statements in one text',
      (s) => `UPDATE ${s}.customers SET name = 'x'; DELETE FROM ${s}.orders WHERE id = 1`,
      20,
    ],
  ];

  it.each(writes)('%s', async (_name, write, after) => {
    const { s, sql, total } = await setup();
    await total();
    expect((await total()).source).toBe('cache');
    await sql.query(write(s));
    expect(await total()).toEqual({ total: after, source: 'db' });
  });

  it('a write that cannot be read invalidates every table', async () => {
    const { s, sql, total } = await setup();
    const names = () => sql.query(`SELECT name FROM ${s}.customers ORDER BY id`);
    await total();
    await names();
    expect((await names()).source).toBe('cache');
    const invalidations = listen(SqlCacheChannels.invalidation);
    await sql.query(`DO $$ BEGIN UPDATE ${s}.orders SET total = 0; END $$`);
    invalidations.stop();
    expect(invalidations.messages).toContainEqual({ table: '*', source: 'write' });
    expect(await total()).toEqual({ total: 0, source: 'db' });
    expect((await names()).source).toBe('db');
  });

  it('writes to a view invalidate the tables behind it, and reads of a view are invalidated by its tables', async () => {
    const { s, sql } = await setup();
    await pool.query(`CREATE VIEW ${s}.big_orders AS SELECT * FROM ${s}.orders WHERE total > 15`);
    await sql.refreshViews();
    const big = () => sql.query(`SELECT count(*)::int AS n FROM ${s}.big_orders`);
    expect((await big()).rows).toEqual([{ n: 1 }]);
    expect((await big()).source).toBe('cache');
    await sql.query(`UPDATE ${s}.orders SET total = 99 WHERE id = 1`);
    expect(await big()).toMatchObject({ rows: [{ n: 2 }], source: 'db' });
  });

  it('a view redefined elsewhere: after refreshViews() a repeated read is tagged with its new base table', async () => {
    const { s, sql } = await setup();
    await pool.query(`CREATE VIEW ${s}.names AS SELECT name FROM ${s}.customers`);
    await sql.refreshViews();
    const names = () => sql.query(`SELECT count(*)::int AS n FROM ${s}.names`);
    await names();
    expect((await names()).source).toBe('cache');
    // Redefined outside sql-cache over another table; the next read must be tagged with that table.
    await pool.query(
      `CREATE OR REPLACE VIEW ${s}.names AS SELECT name FROM ${s}.customers UNION ALL SELECT 'x' FROM ${s}.staging`,
    );
    await sql.refreshViews();
    await sql.invalidateTable(`${s}.names`);
    expect(await names()).toMatchObject({ rows: [{ n: 4 }], source: 'db' });
    await untilCached(names, { rows: [{ n: 4 }] });
    await sql.query(`DELETE FROM ${s}.staging WHERE id = 3`);
    expect(await names()).toMatchObject({ rows: [{ n: 3 }], source: 'db' });
  });

  it('declared views work where none can be discovered', async () => {
    const { s } = await setup();
    await pool.query(`CREATE VIEW ${s}.totals AS SELECT sum(total)::int AS t FROM ${s}.orders`);
    const { sql } = await instance(pgDriver(pool), { sql: { discoverViews: false, views: { totals: ['orders'] } } });
    const read = () => sql.query(`SELECT t FROM ${s}.totals`);
    await read();
    expect((await read()).source).toBe('cache');
    await sql.query(`DELETE FROM ${s}.orders WHERE id = 2`);
    expect(await read()).toMatchObject({ rows: [{ t: 10 }], source: 'db' });
  });

  it('autocommit: readers bypass the cache while the statement runs, and it is invalidated after it resolves', async () => {
    const { s, total } = await setup();
    const gate = deferred();
    const reached = deferred();
    const { sql } = await instance(
      hooked(pgDriver(pool), {
        afterQuery: async (text) => {
          if (!text.startsWith('UPDATE')) return;
          reached.resolve();
          await gate.promise;
        },
      }),
      { prefix: undefined },
    );
    const read = () => sql.query<{ total: number }>(`SELECT coalesce(sum(total), 0)::int AS total FROM ${s}.orders`);
    await read();
    expect((await read()).source).toBe('cache');
    const writing = sql.query(`UPDATE ${s}.orders SET total = 0`);
    await reached.promise;
    // Committed, not yet invalidated: the horizon keeps readers on the database.
    expect(await read()).toMatchObject({ rows: [{ total: 0 }], source: 'db' });
    expect(sql.stats().tables.orders?.invalidations ?? 0).toBe(0);
    gate.resolve();
    await writing;
    expect(sql.stats().tables.orders?.invalidations).toBe(1);
    expect(await read()).toMatchObject({ rows: [{ total: 0 }], source: 'db' });
    await untilCached(read, { rows: [{ total: 0 }] });
    await total();
  });
});

describe('transactions', () => {
  it('a rolled-back transaction invalidates nothing', async () => {
    const { s, sql, total } = await setup();
    await total();
    await expect(
      sql.transaction(async (tx) => {
        await tx.query(`UPDATE ${s}.orders SET total = 0`);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await total()).toEqual({ total: 30, source: 'cache' });
    expect(sql.stats().tables.orders?.invalidations ?? 0).toBe(0);
  });

  it('a committed transaction invalidates after COMMIT; readers bypass the cache while it is open', async () => {
    const { s, sql, total } = await setup();
    await total();
    const lookups = listen(SqlCacheChannels.lookup);
    await sql.transaction(async (tx) => {
      await tx.query(`UPDATE ${s}.orders SET total = 1`);
      // Outside the transaction: the committed 30, from the database, not cached.
      expect(await total()).toEqual({ total: 30, source: 'db' });
      // Inside: its own write.
      const own = await tx.query<{ total: number }>(`SELECT sum(total)::int AS total FROM ${s}.orders`);
      expect(own).toMatchObject({ rows: [{ total: 2 }], source: 'db' });
      expect(sql.stats().tables.orders?.invalidations ?? 0).toBe(0);
    });
    lookups.stop();
    expect(lookups.messages.filter((m) => m.result === 'bypass').length).toBeGreaterThanOrEqual(2);
    expect(sql.stats().tables.orders?.invalidations).toBe(1);
    expect(await total()).toEqual({ total: 2, source: 'db' });
    await untilCached(total, { total: 2 });
  });

  it('reads inside a transaction are never written back', async () => {
    const { s, sql, total } = await setup();
    await sql.transaction(async (tx) => {
      expect((await tx.query(`SELECT coalesce(sum(total), 0)::int AS total FROM ${s}.orders`)).source).toBe('db');
    });
    expect((await total()).source).toBe('db');
  });

  it('SQL-text BEGIN / COMMIT / ROLLBACK on a held connection', async () => {
    const { s, sql, total } = await setup();
    await total();
    const conn = await sql.connect();
    try {
      await conn.query('BEGIN');
      expect(conn.inTransaction).toBe(true);
      await conn.query(`UPDATE ${s}.orders SET total = 0 WHERE id = 1`);
      expect(await total()).toEqual({ total: 30, source: 'db' });
      await conn.query('ROLLBACK');
      expect(conn.inTransaction).toBe(false);
      // Rolled back: the cached result is still right, and served again.
      expect(await total()).toEqual({ total: 30, source: 'cache' });
      await conn.query('START TRANSACTION');
      await conn.query(`DELETE FROM ${s}.orders WHERE id = 1`);
      expect(sql.stats().tables.orders?.invalidations ?? 0).toBe(0);
      await conn.query('COMMIT');
    } finally {
      await conn.release();
    }
    expect(sql.stats().tables.orders?.invalidations).toBe(1);
    expect(await total()).toEqual({ total: 20, source: 'db' });
  });

  it('refuses BEGIN through the pool, which cannot hold a transaction', async () => {
    const { sql } = await setup();
    await expect(sql.query('BEGIN')).rejects.toMatchObject({ code: 'E_SQL_TRANSACTION' });
  });
});

describe('the seed API', () => {
  it('getDataFromTable caches by table, columns and where; updateDataInTable invalidates after commit', async () => {
    const { s, sql } = await setup();
    const get = () => sql.getDataFromTable(`${s}.orders`, ['id', 'total'], { customer: 1 });
    expect(await get()).toEqual([{ id: 1, total: 10 }]);
    expect(sql.stats().tables.orders).toMatchObject({ misses: 1 });
    await get();
    expect(sql.stats().tables.orders).toMatchObject({ hits: 1 });
    await sql.updateDataInTable(`${s}.orders`, async () => {
      // Written outside sql-cache: the table is invalidated all the same.
      await pool.query(`UPDATE ${s}.orders SET total = 11 WHERE id = 1`);
    });
    expect(await get()).toEqual([{ id: 1, total: 11 }]);
    expect(sql.stats().tables.orders).toMatchObject({ misses: 2, invalidations: 1 });
  });

  it('getDataFromTable with a fetcher and a TTL; invalidateTable drops it', async () => {
    const { sql } = await setup();
    let calls = 0;
    const fetcher = async () => {
      calls++;
      return [{ n: calls }];
    };
    const get = () => sql.getDataFromTable('anything', [], { a: [1, 2], b: null }, fetcher, '1m');
    expect(await get()).toEqual([{ n: 1 }]);
    expect(await get()).toEqual([{ n: 1 }]);
    await sql.invalidateTable('anything');
    expect(await get()).toEqual([{ n: 2 }]);
  });
});
