/**
 * MySQL / MariaDB through mysql2/promise: every write path invalidates,
 * multi-table UPDATE and DELETE included; transactions as on PostgreSQL.
 * The server comes from MYSQL_URL or 127.0.0.1:3306; without one these
 * tests fail with a message saying how to get one.
 */

import type mysql from 'mysql2/promise';
import { beforeAll, describe, expect, it } from 'vitest';
import { mysql2Driver } from '../src/mysql2.js';
import { instance, mysqlPoolForTests, mysqlTables } from './helpers.js';

let pool: mysql.Pool;
beforeAll(async () => {
  pool = await mysqlPoolForTests();
});

async function setup() {
  const { prefix, drop } = mysqlTables(pool);
  const orders = `${prefix}orders`;
  const customers = `${prefix}customers`;
  drop(orders, customers);
  await pool.query(`CREATE TABLE ${customers} (id int PRIMARY KEY, name varchar(20))`);
  await pool.query(`CREATE TABLE ${orders} (id int PRIMARY KEY, customer int, total int)`);
  await pool.query(`INSERT INTO ${customers} VALUES (1, 'ada'), (2, 'bob')`);
  await pool.query(`INSERT INTO ${orders} VALUES (1, 1, 10), (2, 2, 20)`);
  const inst = await instance(mysql2Driver(pool));
  const total = async () => {
    const r = await inst.sql.query<{ total: number }>(
      `SELECT CAST(COALESCE(SUM(total), 0) AS SIGNED) AS total FROM ${orders}`,
    );
    return { total: Number(r.rows[0]?.total), source: r.source };
  };
  const names = async () => (await inst.sql.query(`SELECT name FROM ${customers} ORDER BY id`)).source;
  return { orders, customers, total, names, ...inst };
}

describe('MySQL writes', () => {
  const writes: Array<[string, (o: string, c: string) => string, number]> = [
    ['INSERT', (o) => `INSERT INTO ${o} VALUES (3, 1, 5)`, 35],
    ['UPDATE', (o) => `UPDATE ${o} SET total = total + 1 WHERE id = 1`, 31],
    ['DELETE', (o) => `DELETE FROM ${o} WHERE id = 2`, 10],
    [
      'INSERT ... ON DUPLICATE KEY UPDATE',
      (o) => `INSERT INTO ${o} VALUES (1, 1, 50) ON DUPLICATE KEY UPDATE total = VALUES(total)`,
      70,
    ],
    ['REPLACE', (o) => `REPLACE INTO ${o} VALUES (2, 2, 0)`, 10],
    [
      'multi-table UPDATE (the joined table is written)',
      (o, c) => `UPDATE ${c} c JOIN ${o} o ON o.customer = c.id SET c.name = 'x', o.total = 0 WHERE c.id = 1`,
      20,
    ],
    ['multi-table DELETE', (o, c) => `DELETE c, o FROM ${c} c JOIN ${o} o ON o.customer = c.id WHERE c.id = 2`, 10],
    ['TRUNCATE', (o) => `TRUNCATE TABLE ${o}`, 0],
  ];

  it.each(writes)('%s invalidates', async (_name, write, after) => {
    const { orders, customers, sql, total } = await setup();
    await total();
    expect((await total()).source).toBe('cache');
    await sql.query(write(orders, customers));
    expect(await total()).toEqual({ total: after, source: 'db' });
  });

  it('a multi-table UPDATE invalidates every table it names', async () => {
    const { orders, customers, sql, names } = await setup();
    await names();
    expect(await names()).toBe('cache');
    await sql.query(`UPDATE ${orders} o JOIN ${customers} c ON o.customer = c.id SET c.name = 'z' WHERE o.id = 1`);
    expect(await names()).toBe('db');
  });

  it('rolled back: nothing invalidated; committed: invalidated after COMMIT', async () => {
    const { orders, sql, total } = await setup();
    await total();
    await expect(
      sql.transaction(async (tx) => {
        await tx.query(`UPDATE ${orders} SET total = 0`);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await total()).toEqual({ total: 30, source: 'cache' });
    await sql.transaction(async (tx) => {
      await tx.query(`UPDATE ${orders} SET total = 1`);
      expect(await total()).toEqual({ total: 30, source: 'db' });
    });
    expect(await total()).toEqual({ total: 2, source: 'db' });
  });

  it('SQL-text transactions on a held connection', async () => {
    const { orders, sql, total } = await setup();
    await total();
    const conn = await sql.connect();
    try {
      await conn.query('START TRANSACTION');
      await conn.query(`DELETE FROM ${orders} WHERE id = ?`, [1]);
      expect(await total()).toEqual({ total: 30, source: 'db' });
      await conn.query('COMMIT');
    } finally {
      await conn.release();
    }
    expect(await total()).toEqual({ total: 20, source: 'db' });
  });

  it('getDataFromTable builds a MySQL SELECT', async () => {
    const { orders, sql } = await setup();
    expect(await sql.getDataFromTable(orders, ['id'], { customer: [1, 2] })).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await sql.getDataFromTable(orders, ['id'], { customer: [1, 2] })).toEqual([{ id: 1 }, { id: 2 }]);
    expect(sql.stats().tables[orders]).toMatchObject({ hits: 1, misses: 1 });
  });
});
