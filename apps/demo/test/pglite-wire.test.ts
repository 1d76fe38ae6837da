/**
 * The embedded database's wire server: many `pg` connections at once on one
 * PGlite session, each getting its own answers (extended-protocol batches are
 * never interleaved), transactions isolated from each other, and a client
 * that vanishes mid-transaction rolled back without blocking the others.
 */
import { PGlite } from '@electric-sql/pglite';
import { getFreePort } from '@stratacache/test-utils';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastReadyStatus, PgliteWireServer } from '../src/launcher/pglite-wire.js';

let db: PGlite;
let server: PgliteWireServer;
let url: string;

beforeAll(async () => {
  db = await PGlite.create();
  server = new PgliteWireServer(db);
  const port = await getFreePort();
  await server.listen(port);
  url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await db.exec('CREATE TABLE counter (id int PRIMARY KEY, v int NOT NULL); INSERT INTO counter VALUES (1, 0);');
}, 60_000);

afterAll(async () => {
  await server?.close();
  await db?.close();
});

describe('the PGlite wire server', () => {
  it('answers every connection with its own rows while others run transactions', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    // A text of its own per query: a Bind that landed on another client's statement would return its tag.
    const ask = (i: number) => `SELECT $1::int AS n, 'q${i}'::text AS tag`;
    try {
      const asked = Array.from({ length: 600 }, (_, i) => i);
      const answers = await Promise.all(
        asked.map(async (i) => {
          if (i % 3 !== 0) return (await pool.query(ask(i), [i])).rows[0];
          // Every third in a transaction: pglite-socket 0.2.17 lets these cut into other clients' batches
          // ("portal does not exist", or another query's rows), which this mix reproduced there.
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            const { rows } = await client.query(ask(i), [i]);
            await client.query('COMMIT');
            return rows[0];
          } finally {
            client.release();
          }
        }),
      );
      expect(answers).toEqual(asked.map((i) => ({ n: i, tag: `q${i}` })));
    } finally {
      await pool.end();
    }
  });

  it('keeps transactions of different connections apart (no lost update in 100 read-modify-writes)', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    try {
      await Promise.all(
        Array.from({ length: 100 }, async () => {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            const { rows } = await client.query<{ v: number }>('SELECT v FROM counter WHERE id = 1');
            await client.query('UPDATE counter SET v = $1 WHERE id = 1', [(rows[0]?.v ?? 0) + 1]);
            await client.query('COMMIT');
          } finally {
            client.release();
          }
        }),
      );
      const { rows } = await pool.query<{ v: number }>('SELECT v FROM counter WHERE id = 1');
      expect(rows[0]?.v).toBe(100);
    } finally {
      await pool.end();
    }
  });

  it('rolls back the transaction of a client that disconnects, and serves the others', async () => {
    const quitter = new pg.Client({ connectionString: url });
    quitter.on('error', () => {}); // its connection is cut on purpose below
    await quitter.connect();
    await quitter.query('BEGIN');
    await quitter.query('UPDATE counter SET v = -1 WHERE id = 1');
    // The other client waits for its turn (even to log in: there is one session) while the transaction
    // is open, then sees no trace of it.
    const other = new pg.Client({ connectionString: url });
    const waiting = other.connect().then(() => other.query<{ v: number }>('SELECT v FROM counter WHERE id = 1'));
    await new Promise((r) => setTimeout(r, 100));
    (quitter as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const { rows } = await waiting;
    expect(rows[0]?.v).not.toBe(-1);
    await other.end();
    await quitter.end().catch(() => {});
  });

  it('reads the status of the last ReadyForQuery in a backend output', () => {
    const ready = (status: string) => [0x5a, 0, 0, 0, 5, status.charCodeAt(0)];
    const commandComplete = [0x43, 0, 0, 0, 9, 0x42, 0x45, 0x47, 0x49, 0x4e - 0x4e]; // 'C', "BEGI\0"
    expect(lastReadyStatus(Uint8Array.from([...commandComplete, ...ready('T')]))).toBe('T');
    expect(lastReadyStatus(Uint8Array.from([...ready('T'), ...ready('I')]))).toBe('I');
    expect(lastReadyStatus(Uint8Array.from([0x31, 0, 0, 0, 4]))).toBeUndefined(); // ParseComplete only
  });
});
