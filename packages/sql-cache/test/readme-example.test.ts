/** The example of the README, run as written (against the test Redis and PostgreSQL). */
import { createRedis } from '@stratacache/core-client';
import { createInvalidationBus } from '@stratacache/invalidation';
import { createCache } from '@stratacache/patterns';
import { compress, msgpack } from '@stratacache/serializers';
import { NEEDS_POSTGRES_SERVER, resolvePostgres, testRedisUrl } from '@stratacache/test-utils';
import pg from 'pg';
import { expect, it } from 'vitest';
import { createSqlCache } from '../src/index.js';
import { pgDriver } from '../src/pg.js';
import { hex } from './helpers.js';

it('runs the README example', async () => {
  const resolved = await resolvePostgres();
  if (!resolved.url) throw new Error(NEEDS_POSTGRES_SERVER);
  process.env.REDIS_URL = testRedisUrl();
  process.env.REDIS_NS = `t-${hex()}`;
  const schema = `sc_${hex()}`;
  const setup = new pg.Pool({ connectionString: resolved.url });
  await setup.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.orders (id int PRIMARY KEY, customer_id int, status text);
    INSERT INTO ${schema}.orders VALUES (7, 42, 'new')`);
  process.env.PGOPTIONS = `-c search_path=${schema}`;
  try {
    // ---- README example starts here ----
    const redis = createRedis(); // REDIS_URL, REDIS_NS ...
    const bus = createInvalidationBus(redis);
    await bus.start();
    const cache = createCache({
      redis,
      bus,
      namespace: 'sql',
      tags: 'lazy', // every table is a tag; lazy tags cost nothing per entry
      serializer: compress(msgpack({ records: true })), // Dates, BigInts and Buffers come back as they went in
    });
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? resolved.url });
    const sql = createSqlCache({
      cache,
      db: pgDriver(pool),
      redis, // horizons: a writer on one instance keeps readers on every instance off the cache
      bus,
      tables: { countries: { category: 'static' } },
    });

    // Read-through: the first call runs the query, the next ones are served from the cache.
    const first = await sql.query('SELECT * FROM orders WHERE customer_id = $1', [42]);
    const again = await sql.query('SELECT * FROM orders WHERE customer_id = $1', [42]);
    console.log(first.source, again.source); // 'db' 'cache'

    // A write invalidates the tables it wrote, after it committed, on every instance.
    await sql.transaction(async (tx) => {
      await tx.query('UPDATE orders SET status = $1 WHERE id = $2', ['paid', 7]);
    });
    const fresh = await sql.query('SELECT * FROM orders WHERE customer_id = $1', [42]);
    console.log(fresh.rows[0]?.status, fresh.source); // 'paid' 'db'

    sql.close();
    cache.close();
    await bus.stop();
    await pool.end();
    await redis.close();
    // ---- README example ends here ----
    expect([first.source, again.source]).toEqual(['db', 'cache']);
    expect([fresh.rows[0]?.status, fresh.source]).toEqual(['paid', 'db']);
  } finally {
    delete process.env.PGOPTIONS;
    delete process.env.REDIS_NS;
    await setup.query(`DROP SCHEMA ${schema} CASCADE`);
    await setup.end();
  }
});
