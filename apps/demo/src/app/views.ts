/**
 * Product view counters: live in Redis (a sorted set, so `/top` can rank by
 * it), durable in PostgreSQL through patterns' write-behind journal.
 *
 * A view is `ZINCRBY` (the live count) and then a journal write of that count
 * (acknowledged once it is in the Redis Stream). The worker, on whichever
 * instance reads the batch, upserts the counts into `product_views`. Counts
 * only grow, so the upsert keeps the larger one: a batch that arrives late or
 * twice (delivery is at least once) never moves a counter backwards.
 */
import type { StrataRedis } from '@stratacache/core-client';
import { createWriteBehind, type WriteBehind } from '@stratacache/patterns';
import type pg from 'pg';
import { quietError } from './quiet-log.js';

/** A journaled view count. */
interface ViewCount {
  views: number;
}

/** The view counters of one instance. */
export interface ViewCounter {
  readonly journal: WriteBehind<ViewCount>;
  /** The sorted set of live counts (member: product id). */
  readonly rankingKey: string;
  /** Counts one view of `productId`; resolves the live count once it is journaled. */
  record(productId: number): Promise<number>;
  /** The live count (Redis) and the durable one (PostgreSQL) of `productId`, and the journal's depth. */
  read(productId: number): Promise<{ live: number; durable: number; journalDepth: number }>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Creates the view counters of an instance named `instance`. */
export function createViewCounter(redis: StrataRedis, pool: pg.Pool, instance: string): ViewCounter {
  const rankingKey = redis.keys('shop').key('ranking', 'views');
  const journal = createWriteBehind<ViewCount>({
    redis,
    namespace: 'shop-views',
    consumer: `instance-${instance}`,
    flushInterval: '250ms',
    writer: async (batch) => {
      if (batch.length === 0) return;
      const values: unknown[] = [];
      const rows = batch
        .filter((e) => e.op === 'set' && e.value)
        .map((e, i) => {
          values.push(Number(e.key), e.value?.views, e.id);
          return `($${i * 3 + 1}::int, $${i * 3 + 2}::bigint, $${i * 3 + 3}::text)`;
        });
      if (rows.length === 0) return;
      await pool.query(
        `INSERT INTO product_views (product_id, views, journal_id) VALUES ${rows.join(', ')}
         ON CONFLICT (product_id) DO UPDATE
         SET views = GREATEST(product_views.views, EXCLUDED.views), journal_id = EXCLUDED.journal_id`,
        values,
      );
    },
  });
  journal.on('error', (error) => quietError('view journal worker', (error as Error).message));
  journal.on('dead-letter', (e) => console.error(`view journal: ${e.entries.length} writes parked:`, e.error));

  return {
    journal,
    rankingKey,
    async record(productId) {
      const live = Number(await redis.run('zincrby', (c) => c.zincrby(rankingKey, 1, String(productId))));
      await journal.write(String(productId), { views: live });
      return live;
    },
    async read(productId) {
      const [live, durable, journalDepth] = await Promise.all([
        redis.run('zscore', (c) => c.zscore(rankingKey, String(productId))),
        pool.query<{ views: string }>('SELECT views FROM product_views WHERE product_id = $1', [productId]),
        journal.depth(),
      ]);
      return { live: Number(live ?? 0), durable: Number(durable.rows[0]?.views ?? 0), journalDepth };
    },
    start: () => journal.start(),
    close: () => journal.close({ timeout: 5000 }),
  };
}
