/**
 * `GET /top`: the most viewed products (the live ranking in Redis) and the
 * best sellers (an aggregate over every order in PostgreSQL), computed by a
 * factory behind the patterns Cache's `getOrSet`:
 *
 * - stampede protection: one factory run at a time per key in a process, and
 *   across both instances through a fenced lock (the others wait for its result);
 * - refresh-ahead: a hit in the last 20% of the TTL refreshes in the background;
 * - grace: for 10 minutes past its TTL the last value is kept, and served
 *   (`x-cache: stale`) when the factory fails or is slower than the soft
 *   timeout, as when Redis, which holds the ranking, is down.
 *
 * `DELETE /top` forgets the value on every instance (for the tour's stampede);
 * `POST /top/expire` makes it stale everywhere but keeps it for grace (for the fail-safe).
 */
import type { FastifyInstance } from 'fastify';
import { cacheHeaders, observe, wantsBypass } from '../cache-status.js';
import type { Services } from '../services.js';

/** How long a ranking is fresh. */
export const TOP_TTL_MS = 10_000;

const TOP_OPTIONS = {
  ttl: TOP_TTL_MS,
  grace: '10m',
  refreshAhead: 0.2,
  timeout: { soft: '500ms', hard: '10s' },
  lockWait: '10s',
} as const;

interface Ranked {
  id: number;
  name: string;
  price_cents: number;
}

/** What `/top` serves. */
export interface Top {
  byViews: (Ranked & { views: number })[];
  bySales: { id: number; name: string; units: number; revenue_cents: number }[];
  /** Which run of the factory (counted in Redis across both instances) produced it. */
  run: number;
  computedBy: string;
  /** When it was computed, on Redis's clock (ms since the epoch). */
  computedAt: number;
}

async function compute(s: Services): Promise<Top> {
  const ranking = await s.redis.run('zrevrange', (c) => c.zrevrange(s.views.rankingKey, 0, 9, 'WITHSCORES'));
  const ids: number[] = [];
  const views = new Map<number, number>();
  for (let i = 0; i < ranking.length; i += 2) {
    const id = Number(ranking[i]);
    ids.push(id);
    views.set(id, Number(ranking[i + 1]));
  }
  const [details, sales] = await Promise.all([
    ids.length
      ? s.sql.query<Ranked>('SELECT id, name, price_cents FROM products WHERE id = ANY($1::int[])', [ids])
      : Promise.resolve({ rows: [] as Ranked[] }),
    // The expensive part, and the reason to cache the whole answer: an aggregate over every order.
    s.sql.query<Top['bySales'][number]>(
      `SELECT p.id, p.name, sum(o.qty)::int AS units, sum(o.amount_cents)::int AS revenue_cents
       FROM orders o JOIN products p ON p.id = o.product_id
       GROUP BY p.id, p.name ORDER BY units DESC, p.id LIMIT 10`,
      [],
      { cache: false },
    ),
  ]);
  const byId = new Map(details.rows.map((r) => [r.id, r]));
  const run = Number(await s.redis.run('incr', (c) => c.incr(s.keys.key('top', 'runs'))));
  await s.redis.clock.ready();
  return {
    byViews: ids.flatMap((id) => {
      const row = byId.get(id);
      return row ? [{ ...row, views: views.get(id) ?? 0 }] : [];
    }),
    bySales: sales.rows,
    run,
    computedBy: `instance-${s.config.instance}`,
    computedAt: s.redis.clock.now(),
  };
}

/** Registers `/top`. */
export async function topRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const top = s.cache.namespace('top');
  app.get<{ Querystring: { cache?: string } }>('/top', async (request, reply) => {
    const bypass = wantsBypass(request.query, request.headers);
    let produced: Top | undefined;
    const observed = await observe(
      () =>
        bypass
          ? compute(s)
          : top.getOrSet(
              'ranking',
              async () => {
                produced = await compute(s);
                return produced;
              },
              TOP_OPTIONS,
            ),
      { namespace: top.name, bypass, loaded: (value) => value === produced },
    );
    const now = s.redis.clock.synced ? s.redis.clock.now() : Date.now();
    const ageMs = Math.max(0, now - observed.value.computedAt);
    // Callers that joined a load which served stale get the same value without an event of their own; a
    // value older than its TTL plus the jitter (10%) can only be a stale one, so say so.
    if (observed.verdict === 'hit' && ageMs > TOP_TTL_MS * 1.1) {
      observed.verdict = 'stale';
      observed.reason = 'past-ttl';
      delete observed.tier;
    }
    cacheHeaders(reply, observed, 'top');
    reply.header('age', String(Math.floor(ageMs / 1000)));
    return { instance: s.config.instance, ageMs, ...observed.value };
  });

  app.post('/top/expire', async () => {
    // With the entry's grace: without one, expire() deletes (nothing would be left to serve stale).
    await top.expire('ranking', { grace: TOP_OPTIONS.grace });
    return {
      instance: s.config.instance,
      expired: true,
      note: 'stale now on every instance, kept for its grace period',
    };
  });

  app.delete('/top', async () => {
    await top.delete('ranking');
    return { instance: s.config.instance, deleted: true, note: 'the next GET /top on any instance recomputes it' };
  });
}
