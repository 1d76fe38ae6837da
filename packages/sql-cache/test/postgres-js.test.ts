/** postgres.js (porsager) through its adapter: reads, writes, its own transaction, a reserved connection, LISTEN. */

import { NEEDS_POSTGRES_SERVER, resolvePostgres } from '@stratacache/test-utils';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlCacheChannels } from '../src/index.js';
import { postgresDriver } from '../src/postgres.js';
import { hex, instance, listen, pgPoolForTests, pgSchema, until, untilCached } from './helpers.js';

let client: postgres.Sql;
beforeAll(async () => {
  const resolved = await resolvePostgres();
  if (!resolved.url) throw new Error(NEEDS_POSTGRES_SERVER);
  client = postgres(resolved.url, { max: 5, onnotice: () => {} });
});
afterAll(async () => {
  await client?.end({ timeout: 5 });
});

async function setup() {
  const pool = await pgPoolForTests();
  const s = await pgSchema(pool);
  await pool.query(`CREATE TABLE ${s}.items (id int PRIMARY KEY, n int); INSERT INTO ${s}.items VALUES (1, 1), (2, 2)`);
  const inst = await instance(postgresDriver(client));
  const sum = async () => {
    const r = await inst.sql.query<{ n: number }>(`SELECT sum(n)::int AS n FROM ${s}.items WHERE id > $1`, [0]);
    return { n: r.rows[0]?.n, source: r.source };
  };
  return { s, pool, sum, ...inst };
}

describe('postgres.js', () => {
  it('caches reads, invalidates writes, and follows sql.begin()', async () => {
    const { s, sql, sum } = await setup();
    expect(await sum()).toEqual({ n: 3, source: 'db' });
    expect(await sum()).toEqual({ n: 3, source: 'cache' });
    const written = await sql.query(`UPDATE ${s}.items SET n = n + 1`);
    expect(written.rowCount).toBe(2);
    expect(await sum()).toEqual({ n: 5, source: 'db' });
    await untilCached(sum, { n: 5 });
    await expect(
      sql.transaction(async (tx) => {
        await tx.query(`DELETE FROM ${s}.items`);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await sum()).toEqual({ n: 5, source: 'cache' });
    await sql.transaction((tx) => tx.query(`DELETE FROM ${s}.items WHERE id = $1`, [1]));
    expect(await sum()).toEqual({ n: 3, source: 'db' });
  });

  it('a reserved connection follows SQL-text transactions', async () => {
    const { s, sql, sum } = await setup();
    await sum();
    const conn = await sql.connect();
    try {
      await conn.query('BEGIN');
      await conn.query(`UPDATE ${s}.items SET n = 0`);
      expect(await sum()).toEqual({ n: 3, source: 'db' });
      await conn.query('COMMIT');
    } finally {
      await conn.release();
    }
    expect(await sum()).toEqual({ n: 0, source: 'db' });
  });

  it('LISTEN: notifications invalidate, and a reconnect after a killed connection is a gap', async () => {
    const { s, sql, sum, pool } = await setup();
    const channel = `ch_${hex()}`;
    await sql.installNotifyTriggers([`${s}.items`], { channel, functionSchema: s });
    const listener = await sql.listen({ channel });
    try {
      await sum();
      await pool.query(`UPDATE ${s}.items SET n = 7 WHERE id = 1`);
      await until(async () => expect(await sum()).toEqual({ n: 9, source: 'db' }));
      const gaps = listen(SqlCacheChannels.invalidation);
      await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`, [
        `listen "${channel}"`,
      ]);
      await until(() => expect(gaps.messages).toContainEqual({ table: '*', source: 'gap' }), 20_000);
      gaps.stop();
    } finally {
      await listener.close();
    }
  });
});
