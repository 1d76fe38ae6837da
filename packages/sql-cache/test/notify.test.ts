/**
 * Writes sql-cache cannot see (another application, ON DELETE CASCADE, a
 * trigger writing another table) reach the cache through the opt-in
 * statement-level triggers and LISTEN; a killed LISTEN connection is a gap
 * that invalidates every table.
 */

import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlCacheChannels } from '../src/index.js';
import { pgDriver } from '../src/pg.js';
import { hex, instance, listen, onCleanup, pgPoolForTests, pgSchema, until } from './helpers.js';

let pool: pg.Pool;
beforeAll(async () => {
  pool = await pgPoolForTests();
});

async function setup() {
  const s = await pgSchema(pool);
  await pool.query(`
    CREATE TABLE ${s}.customers (id int PRIMARY KEY, name text);
    CREATE TABLE ${s}.orders (id int PRIMARY KEY, customer int REFERENCES ${s}.customers(id) ON DELETE CASCADE, total int);
    CREATE TABLE ${s}.audit (n int);
    INSERT INTO ${s}.customers VALUES (1, 'ada'), (2, 'bob');
    INSERT INTO ${s}.orders VALUES (1, 1, 10), (2, 2, 20);
    INSERT INTO ${s}.audit VALUES (0);
    CREATE FUNCTION ${s}.bump_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE ${s}.audit SET n = n + 1; RETURN NULL; END $$;
    CREATE TRIGGER bump AFTER UPDATE ON ${s}.customers FOR EACH STATEMENT EXECUTE FUNCTION ${s}.bump_audit();
  `);
  const channel = `ch_${hex()}`;
  const inst = await instance(pgDriver(pool));
  const installed = await inst.sql.installNotifyTriggers([`${s}.customers`, `${s}.orders`, `${s}.audit`], {
    channel,
    functionSchema: s,
  });
  expect(installed).toHaveLength(3);
  const listener = await inst.sql.listen({ channel });
  onCleanup(() => listener.close());
  const count = (table: string) => inst.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.${table}`);
  return { s, channel, listener, count, ...inst };
}

describe('NOTIFY from triggers', () => {
  it('invalidates after another application commits, and not before', async () => {
    const { s, count, listener } = await setup();
    await count('orders');
    expect((await count('orders')).source).toBe('cache');
    const other = await pool.connect();
    try {
      await other.query('BEGIN');
      await other.query(`INSERT INTO ${s}.orders VALUES (3, 1, 5)`);
      // Nothing is delivered before COMMIT.
      expect(await count('orders')).toMatchObject({ rows: [{ n: 2 }], source: 'cache' });
      await other.query('COMMIT');
    } finally {
      other.release();
    }
    await until(async () => expect(await count('orders')).toMatchObject({ rows: [{ n: 3 }], source: 'db' }));
    await listener.close();
  });

  it('a rolled-back write by another application sends nothing', async () => {
    const { s, sql, count, listener } = await setup();
    await count('orders');
    const invalidations = listen(SqlCacheChannels.invalidation);
    const other = await pool.connect();
    try {
      await other.query('BEGIN');
      await other.query(`DELETE FROM ${s}.orders`);
      await other.query('ROLLBACK');
      // A committed write after it: once its notification is in, the rolled-back one would have been too.
      await other.query(`UPDATE ${s}.audit SET n = n`);
    } finally {
      other.release();
    }
    await until(() => expect(invalidations.messages).toContainEqual({ table: 'audit', source: 'notify' }));
    invalidations.stop();
    expect(invalidations.messages.filter((m) => m.table === 'orders')).toEqual([]);
    expect((await count('orders')).source).toBe('cache');
    expect(sql.stats().tables.orders?.invalidations ?? 0).toBe(0);
    await listener.close();
  });

  it('catches ON DELETE CASCADE and a trigger writing another table, which parsing cannot see', async () => {
    const { s, sql, count, listener } = await setup();
    await count('orders');
    await count('audit');
    expect((await count('orders')).source).toBe('cache');
    const invalidations = listen(SqlCacheChannels.invalidation);
    // Parsing sees only customers; the cascade deletes orders, the trigger updates audit.
    await sql.query(`DELETE FROM ${s}.customers WHERE id = 2`);
    await sql.query(`UPDATE ${s}.customers SET name = 'ada lovelace' WHERE id = 1`);
    await until(async () => expect(await count('orders')).toMatchObject({ rows: [{ n: 1 }], source: 'db' }));
    const audit = await sql.query<{ n: number }>(`SELECT n FROM ${s}.audit`);
    expect(audit.rows).toEqual([{ n: 1 }]);
    invalidations.stop();
    expect(invalidations.messages).toContainEqual({ table: 'orders', source: 'notify' });
    expect(invalidations.messages).toContainEqual({ table: 'audit', source: 'notify' });
    await listener.close();
  });

  it('a killed LISTEN connection is a gap: every table is invalidated, and notifications flow again', async () => {
    const { s, channel, count, listener } = await setup();
    await count('orders');
    await count('customers');
    expect((await count('customers')).source).toBe('cache');
    const invalidations = listen(SqlCacheChannels.invalidation);
    const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE query = $1', [
      `LISTEN "${channel}"`,
    ]);
    expect(rows).toHaveLength(1);
    await pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
    await until(() =>
      expect(invalidations.messages.filter((m) => m.table === '*' && m.source === 'gap').length).toBe(2),
    ); // once when lost, once when listening again
    expect((await count('customers')).source).toBe('db');
    // Listening again: another application's write is seen.
    await count('orders');
    await pool.query(`DELETE FROM ${s}.orders WHERE id = 1`);
    await until(async () => expect(await count('orders')).toMatchObject({ rows: [{ n: 1 }], source: 'db' }));
    invalidations.stop();
    await listener.close();
  });
});
