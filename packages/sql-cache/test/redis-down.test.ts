/**
 * Redis down while querying: reads come from the database within the
 * configured timeouts, nothing is written back (to either tier), it is
 * counted, and a write made meanwhile is invalidated once Redis is back.
 */

import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlCacheChannels } from '../src/index.js';
import { pgDriver } from '../src/pg.js';
import { instance, listen, pgPoolForTests, pgSchema, privateRedis, until } from './helpers.js';

let pool: pg.Pool;
beforeAll(async () => {
  pool = await pgPoolForTests();
});

describe('Redis down', () => {
  it('paused (SIGSTOP): reads run on the database, nothing is cached, writes are invalidated when it is back', {
    timeout: 60_000,
  }, async () => {
    const s = await pgSchema(pool);
    await pool.query(
      `CREATE TABLE ${s}.items (id int PRIMARY KEY, name text); INSERT INTO ${s}.items VALUES (1, 'a'), (2, 'b')`,
    );
    const server = await privateRedis();
    const { sql, cache } = await instance(pgDriver(pool), {
      redis: {
        url: server.url,
        commandTimeout: '300ms',
        breaker: { failureThreshold: 3, window: '10s', openDuration: '1s' },
      },
    });
    const byId = (id: number) => sql.query<{ name: string }>(`SELECT name FROM ${s}.items WHERE id = $1`, [id]);
    expect(await byId(1)).toMatchObject({ rows: [{ name: 'a' }], source: 'db' });
    const fallbacks = listen(SqlCacheChannels.fallback);
    server.pause();
    try {
      // Never read before: it comes from the database, after at most the command timeouts.
      expect(await byId(2)).toMatchObject({ rows: [{ name: 'b' }], source: 'db' });
      expect(await byId(2)).toMatchObject({ rows: [{ name: 'b' }], source: 'db' });
      // A write while Redis is away: the database changes, the invalidation cannot be recorded.
      await sql.query(`UPDATE ${s}.items SET name = 'a2' WHERE id = 1`);
      // This instance keeps readers of the table off its cache until the invalidation is recorded.
      expect(await byId(1)).toMatchObject({ rows: [{ name: 'a2' }], source: 'db' });
      for (let i = 0; i < 3; i++) expect((await byId(2)).source).toBe('db');
    } finally {
      server.resume();
    }
    fallbacks.stop();
    const reasons = new Set(fallbacks.messages.map((m) => m.reason));
    expect(reasons.has('invalidation-failed')).toBe(true);
    expect([...reasons].some((r) => r === 'redis-error' || r === 'redis-down')).toBe(true);
    expect(sql.stats().fallbacks['invalidation-failed']).toBeGreaterThanOrEqual(1);
    // Nothing read during the pause was kept, in memory or in Redis.
    expect(cache.stats().memoryEntries).toBeLessThanOrEqual(1);
    // Back: the pending invalidation is recorded, and reads are cached again.
    await until(async () => {
      expect(await byId(1)).toMatchObject({ rows: [{ name: 'a2' }] });
      expect(await byId(1)).toMatchObject({ rows: [{ name: 'a2' }], source: 'cache' });
    }, 20_000);
    expect(await byId(2)).toMatchObject({ rows: [{ name: 'b' }] });
  });
});
