/**
 * `cachedPgPool`: Drizzle (drizzle-orm/node-postgres) and Kysely
 * (PostgresDialect) sending their SQL through sql-cache, on the real
 * PostgreSQL and Redis. What a user of either ORM checks: reads cached,
 * writes visible at once, nothing pre-commit surviving a commit, a rollback
 * invalidating nothing, rows read as arrays or with the ORM's own type
 * parsers never mixed with plain ones, and pg's result fields the ORMs read
 * (the command tag) passed on.
 */
import { ConfigError } from '@stratacache/core-client';
import { resolvePostgres } from '@stratacache/test-utils';
import { sql as dsql, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { pgSchema as drizzleSchema, integer, text, timestamp } from 'drizzle-orm/pg-core';
import { type Generated, Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import postgres from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { cachedPgPool, pgDriver } from '../src/pg.js';
import { postgresDriver } from '../src/postgres.js';
import { deferred, instance, onCleanup, pgPoolForTests, pgSchema, until } from './helpers.js';

let pool: pg.Pool;
beforeAll(async () => {
  pool = await pgPoolForTests();
});

/** A schema with customers and orders, an instance over the pool, and the look-alike pool over it. */
async function setup() {
  const s = await pgSchema(pool);
  await pool.query(`
    CREATE TABLE ${s}.customers (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE ${s}.orders (id int PRIMARY KEY, customer int NOT NULL, total int NOT NULL,
      at timestamptz NOT NULL DEFAULT '2026-01-02T03:04:05.678Z');
    INSERT INTO ${s}.customers VALUES (1, 'ada'), (2, 'bob');
    INSERT INTO ${s}.orders (id, customer, total) VALUES (1, 1, 10), (2, 2, 20);
  `);
  const inst = await instance(pgDriver(pool));
  const facade = cachedPgPool(inst.sql);
  return { s, ...inst, facade };
}

/** Drizzle's view of the schema `s`. */
function drizzleTables(s: string) {
  const schema = drizzleSchema(s);
  const customers = schema.table('customers', { id: integer('id').primaryKey(), name: text('name').notNull() });
  const orders = schema.table('orders', {
    id: integer('id').primaryKey(),
    customer: integer('customer').notNull(),
    total: integer('total').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  });
  return { customers, orders };
}

describe('Drizzle (drizzle-orm/node-postgres)', () => {
  async function drizzleSetup() {
    const base = await setup();
    const db = drizzle({ client: base.facade as unknown as pg.Pool });
    return { ...base, db, ...drizzleTables(base.s) };
  }

  it('caches a select, and an insert is visible to the next select at once', async () => {
    const { db, orders, sql } = await drizzleSetup();
    const totals = () => db.select({ id: orders.id, total: orders.total }).from(orders).orderBy(orders.id);
    expect(await totals()).toEqual([
      { id: 1, total: 10 },
      { id: 2, total: 20 },
    ]);
    expect(await totals()).toHaveLength(2);
    expect(sql.stats().tables.orders).toMatchObject({ misses: 1, hits: 1 });
    await db.insert(orders).values({ id: 3, customer: 1, total: 5, at: new Date('2026-03-01T00:00:00Z') });
    expect((await totals()).map((r) => r.total)).toEqual([10, 20, 5]);
  });

  it('a join with two "id" columns (array rows) comes back the same from the cache', async () => {
    const { db, orders, customers, sql } = await drizzleSetup();
    const joined = () =>
      db
        .select({ orderId: orders.id, customerId: customers.id, name: customers.name, at: orders.at })
        .from(orders)
        .innerJoin(customers, eq(orders.customer, customers.id))
        .orderBy(orders.id);
    const first = await joined();
    expect(first).toEqual([
      { orderId: 1, customerId: 1, name: 'ada', at: new Date('2026-01-02T03:04:05.678Z') },
      { orderId: 2, customerId: 2, name: 'bob', at: new Date('2026-01-02T03:04:05.678Z') },
    ]);
    expect(await joined()).toEqual(first);
    expect(sql.stats().tables.customers).toMatchObject({ hits: 1 });
  });

  it('a transaction: an outside reader during it never caches pre-commit rows that survive the commit', async () => {
    const { db, orders, sql } = await drizzleSetup();
    const total = async () => (await db.select({ total: orders.total }).from(orders).where(eq(orders.id, 1)))[0]?.total;
    expect(await total()).toBe(10);
    expect(await total()).toBe(10); // cached
    const updated = deferred();
    const release = deferred();
    const tx = db.transaction(async (t) => {
      await t.update(orders).set({ total: 11 }).where(eq(orders.id, 1));
      // Read your own write inside the transaction.
      expect((await t.select({ total: orders.total }).from(orders).where(eq(orders.id, 1)))[0]?.total).toBe(11);
      updated.resolve();
      await release.promise;
    });
    await updated.promise;
    // Outside, while the transaction is open: the committed value, from the database, not cached.
    const before = sql.stats().tables.orders?.hits ?? 0;
    expect(await total()).toBe(10);
    expect(await total()).toBe(10);
    expect(sql.stats().tables.orders?.hits).toBe(before);
    release.resolve();
    await tx;
    expect(await total()).toBe(11);
    expect(await total()).toBe(11);
  });

  it('a rolled-back transaction invalidates nothing', async () => {
    const { db, orders, sql } = await drizzleSetup();
    const total = async () => (await db.select({ total: orders.total }).from(orders).where(eq(orders.id, 2)))[0]?.total;
    expect(await total()).toBe(20);
    await until(async () => {
      const hits = sql.stats().tables.orders?.hits ?? 0;
      expect(await total()).toBe(20);
      expect(sql.stats().tables.orders?.hits).toBe(hits + 1);
    });
    await expect(
      db.transaction(async (t) => {
        await t.update(orders).set({ total: 99 }).where(eq(orders.id, 2));
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const hits = sql.stats().tables.orders?.hits ?? 0;
    expect(await total()).toBe(20);
    expect(sql.stats().tables.orders?.hits).toBe(hits + 1);
  });

  it('randomized: writers in transactions and readers racing them; after each commit no reader sees the old total', async () => {
    const { db, orders } = await drizzleSetup();
    const total = async () => (await db.select({ total: orders.total }).from(orders).where(eq(orders.id, 1)))[0]?.total;
    const pause = () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)));
    let stale = 0;
    for (let round = 1; round <= 150; round++) {
      // Readers keep reading for the whole transaction, COMMIT included.
      let writing = true;
      const readers = Array.from({ length: 2 }, async () => {
        while (writing) {
          await total();
          await pause();
        }
      });
      await db.transaction(async (t) => {
        await pause();
        await t
          .update(orders)
          .set({ total: 1000 + round })
          .where(eq(orders.id, 1));
        await pause();
      });
      writing = false;
      await Promise.all(readers);
      if ((await total()) !== 1000 + round) stale++;
    }
    expect(stale).toBe(0);
  });

  it('db.execute passes pg’s command tag and rows on', async () => {
    const { db, s } = await drizzleSetup();
    const result = await db.execute(dsql.raw(`UPDATE ${s}.orders SET total = total + 1 WHERE id = 1`));
    expect(result).toMatchObject({ command: 'UPDATE', rowCount: 1 });
  });
});

describe('Kysely (PostgresDialect)', () => {
  interface Database {
    orders: { id: number; customer: number; total: number; at: Generated<Date> };
  }

  async function kyselySetup() {
    const base = await setup();
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: base.facade as never }),
    }).withSchema(base.s);
    return { ...base, db };
  }

  it('caches a select; an update reports its affected rows and is visible at once', async () => {
    const { db, sql } = await kyselySetup();
    const totals = () => db.selectFrom('orders').select(['id', 'total']).orderBy('id').execute();
    expect(await totals()).toEqual([
      { id: 1, total: 10 },
      { id: 2, total: 20 },
    ]);
    await totals();
    expect(sql.stats().tables.orders).toMatchObject({ misses: 1, hits: 1 });
    const updated = await db.updateTable('orders').set({ total: 12 }).where('id', '=', 1).executeTakeFirst();
    expect(updated.numUpdatedRows).toBe(1n);
    const inserted = await db.insertInto('orders').values({ id: 3, customer: 2, total: 7 }).executeTakeFirst();
    expect(inserted.numInsertedOrUpdatedRows).toBe(1n);
    expect((await totals()).map((r) => r.total)).toEqual([12, 20, 7]);
  });

  it('a transaction with an isolation level is followed: bypassed while open, invalidated after commit', async () => {
    const { db, sql } = await kyselySetup();
    const total = async () =>
      (await db.selectFrom('orders').select('total').where('id', '=', 2).executeTakeFirstOrThrow()).total;
    expect(await total()).toBe(20);
    const updated = deferred();
    const release = deferred();
    const tx = db
      .transaction()
      .setIsolationLevel('serializable')
      .execute(async (t) => {
        await t.updateTable('orders').set({ total: 21 }).where('id', '=', 2).execute();
        updated.resolve();
        await release.promise;
      });
    await updated.promise;
    const hits = sql.stats().tables.orders?.hits ?? 0;
    expect(await total()).toBe(20);
    expect(sql.stats().tables.orders?.hits).toBe(hits);
    release.resolve();
    await tx;
    expect(await total()).toBe(21);
  });

  it('a COMMIT that PostgreSQL answers with ROLLBACK (a failed transaction) reaches Kysely as one', async () => {
    const { db } = await kyselySetup();
    await expect(
      db.transaction().execute(async (t) => {
        await t.updateTable('orders').set({ total: 50 }).where('id', '=', 1).execute();
        // A failing statement aborts the transaction; swallowing it leaves COMMIT to answer ROLLBACK.
        await t
          .insertInto('orders')
          .values({ id: 1, customer: 1, total: 1 })
          .execute()
          .catch(() => {});
      }),
    ).rejects.toMatchObject({ name: 'AbortedTransactionError' });
    const row = await db.selectFrom('orders').select('total').where('id', '=', 1).executeTakeFirstOrThrow();
    expect(row.total).toBe(10);
  });
});

describe('the pool itself', () => {
  it('keeps rows read as arrays or with other type parsers apart from plain rows of the same SQL', async () => {
    const { s, sql, facade } = await setup();
    const text = `SELECT id, at FROM ${s}.orders WHERE id = 1`;
    const asArrays = await facade.query({ text, rowMode: 'array' });
    expect(asArrays.rows).toEqual([[1, new Date('2026-01-02T03:04:05.678Z')]]);
    // Plain objects: not the array entry.
    expect(await sql.query(text)).toMatchObject({ rows: [{ id: 1 }], source: 'db' });
    expect(await sql.query(text)).toMatchObject({ rows: [{ id: 1 }], source: 'cache' });
    const raw = { getTypeParser: () => (value: string) => `raw:${value}` };
    const parsed = await facade.query({ text, types: raw });
    expect(parsed).toMatchObject({ rows: [{ id: 'raw:1' }], source: 'db' });
    expect(await facade.query({ text, types: raw })).toMatchObject({ rows: [{ id: 'raw:1' }], source: 'cache' });
    // Another pool's parsers are other parsers: not its entry.
    const otherParsers = { getTypeParser: () => (value: string) => `other:${value}` };
    expect(await cachedPgPool(sql, { parsers: 'other' }).query({ text, types: otherParsers })).toMatchObject({
      rows: [{ id: 'other:1' }],
      source: 'db',
    });
    expect(await facade.query({ text, rowMode: 'array' })).toMatchObject({
      rows: [[1, expect.anything()]],
      source: 'cache',
    });
  });

  it('answers pg’s result shape: rows, rowCount, command (SELECT for a hit), fields, source', async () => {
    const { s, facade } = await setup();
    const text = `SELECT id FROM ${s}.customers ORDER BY id`;
    expect(await facade.query(text)).toEqual({
      rows: [{ id: 1 }, { id: 2 }],
      rowCount: 2,
      command: 'SELECT',
      fields: [],
      source: 'db',
    });
    expect(await facade.query(text, [])).toEqual({
      rows: [{ id: 1 }, { id: 2 }],
      rowCount: 2,
      command: 'SELECT',
      fields: [],
      source: 'cache',
    });
    expect(await facade.query({ text: `DELETE FROM ${s}.customers WHERE id = $1`, values: [2] })).toMatchObject({
      command: 'DELETE',
      rowCount: 1,
      source: 'db',
    });
    expect((await facade.query(text)).rows).toEqual([{ id: 1 }]);
  });

  it('release(true) closes the connection instead of returning it to the pool', async () => {
    const { facade } = await setup();
    const client = await facade.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = rows[0]?.pid;
    client.release(true);
    await until(async () => {
      const alive = await pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
      expect(alive.rowCount).toBe(0);
    });
  });

  it('refuses what it cannot do, with a clear error', async () => {
    const { s, sql, facade } = await setup();
    const text = `SELECT id FROM ${s}.customers`;
    expect(() => cachedPgPool(sql, { parsers: '' })).toThrow(ConfigError);
    expect(() => cachedPgPool(sql, { parsers: 'a b' })).toThrow(/parsers/);
    expect(() => cachedPgPool(sql, { parser: 'x' } as never)).toThrow(/unknown option "parser"/);
    expect(() => cachedPgPool({} as never)).toThrow(/must be a SqlCache/);
    const pjs = postgres((await resolvePostgres()).url as string, { max: 1 });
    onCleanup(() => pjs.end());
    const other = await instance(postgresDriver(pjs));
    expect(() => cachedPgPool(other.sql)).toThrow(/pgDriver/);
    await expect(other.sql.query(text, [], { driverCall: { rowMode: 'array' } })).rejects.toThrow(ConfigError);
    await expect(facade.query(text, [], () => {})).rejects.toThrow(/callbacks are not supported/);
    await expect(facade.query({ text, rowMode: 'object' as never })).rejects.toThrow(/rowMode/);
    await expect(facade.query(text, 'nope' as never)).rejects.toThrow(/values must be an array/);
    await expect(facade.query({ text: '' })).rejects.toThrow(/non-empty/);
    await expect(facade.query({ text, submit: () => {} } as never)).rejects.toThrow(/submittables/);
    const client = await facade.connect();
    client.release();
    await expect(client.query(text)).rejects.toThrow(/released/);
    const ended = cachedPgPool(sql);
    await ended.end();
    await expect(ended.query(text)).rejects.toThrow(/ended/);
    await expect(ended.connect()).rejects.toThrow(/ended/);
    // The application's pg Pool is not ended with it.
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('a write through a held client outside a transaction invalidates after it resolves', async () => {
    const { s, facade } = await setup();
    const read = () => facade.query<{ name: string }>(`SELECT name FROM ${s}.customers WHERE id = 1`);
    expect((await read()).rows).toEqual([{ name: 'ada' }]);
    await until(async () => expect((await read()).source).toBe('cache'));
    const client = await facade.connect();
    try {
      await client.query(`UPDATE ${s}.customers SET name = 'ada l.' WHERE id = 1`);
    } finally {
      client.release();
    }
    expect((await read()).rows).toEqual([{ name: 'ada l.' }]);
  });
});
