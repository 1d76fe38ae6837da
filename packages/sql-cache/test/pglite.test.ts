/**
 * Embedded PostgreSQL (PGlite 0.5) through its adapter. PGlite takes about
 * 10 s and 750 MB to start here: one instance for the whole file.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteDriver } from '../src/pglite.js';
import { hex, instance, until, untilCached } from './helpers.js';

let db: PGlite;
beforeAll(async () => {
  db = await PGlite.create();
}, 120_000);
afterAll(async () => {
  await db?.close();
});

async function setup() {
  const s = `sc_${hex()}`;
  await db.exec(`
    CREATE SCHEMA ${s};
    CREATE TABLE ${s}.items (id int PRIMARY KEY, n int);
    INSERT INTO ${s}.items VALUES (1, 1), (2, 2);
  `);
  const inst = await instance(pgliteDriver(db));
  const sum = async () => {
    const r = await inst.sql.query<{ n: number }>(`SELECT sum(n)::int AS n FROM ${s}.items`);
    return { n: r.rows[0]?.n, source: r.source };
  };
  return { s, sum, ...inst };
}

describe('PGlite', () => {
  it('caches reads and invalidates writes', async () => {
    const { s, sql, sum } = await setup();
    expect(await sum()).toEqual({ n: 3, source: 'db' });
    expect(await sum()).toEqual({ n: 3, source: 'cache' });
    await sql.query(`UPDATE ${s}.items SET n = 10 WHERE id = $1`, [1]);
    expect(await sum()).toEqual({ n: 12, source: 'db' });
    await sql.query(`INSERT INTO ${s}.items VALUES (3, 3) ON CONFLICT (id) DO NOTHING`);
    expect(await sum()).toEqual({ n: 15, source: 'db' });
  });

  it('the driver transaction: rollback invalidates nothing, commit invalidates after COMMIT', async () => {
    const { s, sql, sum } = await setup();
    await sum();
    await expect(
      sql.transaction(async (tx) => {
        await tx.query(`DELETE FROM ${s}.items`);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await sum()).toEqual({ n: 3, source: 'cache' });
    await sql.transaction(async (tx) => {
      await tx.query(`DELETE FROM ${s}.items WHERE id = 1`);
    });
    expect(await sum()).toEqual({ n: 2, source: 'db' });
  });

  it('SQL-text BEGIN / COMMIT on the single connection are followed on the main path', async () => {
    const { s, sql, sum } = await setup();
    await sum();
    await sql.query('BEGIN');
    await sql.query(`UPDATE ${s}.items SET n = 0`);
    // Inside the transaction the table it wrote is read from the database, and nothing is written back.
    expect(await sum()).toEqual({ n: 0, source: 'db' });
    await sql.query('COMMIT');
    expect(await sum()).toEqual({ n: 0, source: 'db' });
    await untilCached(sum, { n: 0 });
  });

  it('NOTIFY triggers reach the cache (LISTEN runs in process)', async () => {
    const { s, sql, sum } = await setup();
    const channel = `ch_${hex()}`;
    await sql.installNotifyTriggers([`${s}.items`], { channel, functionSchema: s });
    const listener = await sql.listen({ channel });
    try {
      await sum();
      expect((await sum()).source).toBe('cache');
      await db.query(`UPDATE ${s}.items SET n = 5 WHERE id = 2`); // behind sql-cache's back
      await until(async () => expect(await sum()).toEqual({ n: 6, source: 'db' }));
    } finally {
      await listener.close();
    }
  });

  it('discovers views from information_schema', async () => {
    const { s, sql } = await setup();
    await db.exec(`CREATE VIEW ${s}.big AS SELECT * FROM ${s}.items WHERE n > 1`);
    await sql.refreshViews();
    const big = () => sql.query(`SELECT count(*)::int AS c FROM ${s}.big`);
    await big();
    expect((await big()).source).toBe('cache');
    await sql.query(`UPDATE ${s}.items SET n = 9`);
    expect(await big()).toMatchObject({ rows: [{ c: 2 }], source: 'db' });
  });
});
