/**
 * The read-during-commit race: a reader fetches rows before a writer
 * commits and writes them back around the commit. Whatever the
 * interleaving, no pre-commit result may outlive the commit: first forced
 * interleavings (hooks between the database answer and the write-back, and
 * between COMMIT and the invalidation), then 1,000 randomized rounds over two
 * instances, counting stale reads (asserted 0).
 */

import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SqlDriver } from '../src/index.js';
import { pgDriver } from '../src/pg.js';
import { deferred, hex, hooked, instance, pgPoolForTests, pgSchema, sleep, untilCached } from './helpers.js';

let pool: pg.Pool;
beforeAll(async () => {
  pool = await pgPoolForTests();
});

async function counterTable(): Promise<string> {
  const s = await pgSchema(pool);
  await pool.query(
    `CREATE TABLE ${s}.counter (id int PRIMARY KEY, v int NOT NULL); INSERT INTO ${s}.counter VALUES (1, 0)`,
  );
  return `${s}.counter`;
}

const readValue = async (
  sql: { query: (q: string) => Promise<{ rows: unknown[]; source: string }> },
  table: string,
) => {
  const r = await sql.query(`SELECT v FROM ${table} WHERE id = 1`);
  return { v: (r.rows[0] as { v: number }).v, source: r.source };
};

describe('forced interleavings', () => {
  it('a read fetched before COMMIT and written back after the invalidation is refused', async () => {
    const table = await counterTable();
    const fetched = deferred();
    const release = deferred();
    let hold = true;
    const db = hooked(pgDriver(pool), {
      afterQuery: async (text) => {
        if (!hold || !text.startsWith(`SELECT v FROM ${table}`)) return;
        hold = false;
        fetched.resolve();
        await release.promise;
      },
    });
    const { sql } = await instance(db);
    const reading = readValue(sql, table);
    await fetched.promise; // the reader holds v = 0, not yet written back
    await sql.transaction((tx) => tx.query(`UPDATE ${table} SET v = 1`));
    release.resolve();
    expect(await reading).toEqual({ v: 0, source: 'db' }); // it began before the commit: 0 was right then
    expect(await readValue(sql, table)).toEqual({ v: 1, source: 'db' });
    await untilCached(() => readValue(sql, table), { v: 1 });
  });

  it('a read fetched before COMMIT and written back between COMMIT and the invalidation does not survive it', async () => {
    const table = await counterTable();
    const fetched = deferred();
    const releaseReader = deferred();
    const committed = deferred();
    const releaseWriter = deferred();
    let holdReader = true;
    let holdWriter = true;
    const db = hooked(pgDriver(pool), {
      afterQuery: async (text) => {
        if (!holdReader || !text.startsWith(`SELECT v FROM ${table}`)) return;
        holdReader = false;
        fetched.resolve();
        await releaseReader.promise;
      },
      afterTransaction: async () => {
        if (!holdWriter) return;
        holdWriter = false;
        committed.resolve();
        await releaseWriter.promise;
      },
    });
    const { sql } = await instance(db);
    const reading = readValue(sql, table);
    await fetched.promise;
    const writing = sql.transaction((tx) => tx.query(`UPDATE ${table} SET v = 1`));
    await committed.promise; // committed in the database, not yet invalidated
    releaseReader.resolve();
    expect(await reading).toEqual({ v: 0, source: 'db' }); // its write-back ran before the invalidation
    releaseWriter.resolve();
    await writing;
    // The entry it wrote carries the time its fetch started, before the invalidation: it is stale.
    expect(await readValue(sql, table)).toEqual({ v: 1, source: 'db' });
  });

  it('a read that starts while the transaction is open bypasses the cache and caches nothing', async () => {
    const table = await counterTable();
    const { sql } = await instance(pgDriver(pool));
    await sql.transaction(async (tx) => {
      await tx.query(`UPDATE ${table} SET v = 1`);
      expect(await readValue(sql, table)).toEqual({ v: 0, source: 'db' });
      expect(await readValue(sql, table)).toEqual({ v: 0, source: 'db' });
    });
    expect(await readValue(sql, table)).toEqual({ v: 1, source: 'db' });
  });

  it('another instance bypasses the cache while the transaction is open, and misses after it', async () => {
    const table = await counterTable();
    const prefix = `t-${hex()}`;
    const a = await instance(pgDriver(pool), { prefix });
    const b = await instance(pgDriver(pool), { prefix });
    await readValue(b.sql, table);
    expect(await readValue(b.sql, table)).toEqual({ v: 0, source: 'cache' });
    await a.sql.transaction(async (tx) => {
      await tx.query(`UPDATE ${table} SET v = 1`);
      expect(await readValue(b.sql, table)).toEqual({ v: 0, source: 'db' });
    });
    expect(await readValue(b.sql, table)).toEqual({ v: 1, source: 'db' });
  });
});

describe('randomized interleavings', () => {
  it('1,000 rounds of readers racing a committing writer on two instances: 0 stale results', {
    timeout: 180_000,
  }, async () => {
    const table = await counterTable();
    const prefix = `t-${hex()}`;
    // Random pauses where the race lives: after the database answers (before a write-back) and after COMMIT.
    const jitter = (): Promise<void> =>
      Math.random() < 0.5 ? sleep(Math.random() * 3).then(() => {}) : new Promise<void>((r) => setImmediate(r));
    const shaken = (): SqlDriver => hooked(pgDriver(pool), { afterQuery: jitter, afterTransaction: jitter });
    const a = await instance(shaken(), { prefix });
    const b = await instance(shaken(), { prefix });
    const instances = [a.sql, b.sql];
    let stale = 0;
    const staleRounds: number[] = [];
    for (let round = 1; round <= 1000; round++) {
      const writer = instances[round % 2] as (typeof instances)[number];
      const readers = Array.from({ length: 3 }, async () => {
        await sleep(Math.random() * 4);
        return readValue(instances[Math.random() < 0.5 ? 0 : 1] as typeof writer, table);
      });
      await writer.transaction(async (tx) => {
        if (Math.random() < 0.5) await jitter();
        await tx.query(`UPDATE ${table} SET v = $1 WHERE id = 1`, [round]);
        if (Math.random() < 0.5) await jitter();
      });
      // After the commit resolved, every instance must answer the committed value.
      for (const sql of instances) {
        const { v } = await readValue(sql, table);
        if (v !== round) {
          stale++;
          staleRounds.push(round);
        }
      }
      await Promise.all(readers);
    }
    expect({ stale, staleRounds: staleRounds.slice(0, 10) }).toEqual({ stale: 0, staleRounds: [] });
  });
});
