/**
 * Operations: `/metrics` (Prometheus, every layer's `stratacache_*` series and
 * Redis's `redis_*`), `/healthz` and `/readyz` (metrics' health), `/jobs` (who
 * ran the reindex job), `/stats/orders` (the per-minute order windows), and
 * `/` listing every endpoint.
 */
import { fastifyHandlers } from '@stratacache/metrics';
import type { FastifyInstance } from 'fastify';
import type { GeneratorStatus } from '../jobs/order-generator.js';
import type { ReindexStatus } from '../jobs/reindex.js';
import type { Services } from '../services.js';
import { ORDERS_PER_MINUTE, recentMinutes } from '../windows.js';

/** The jobs' live status, for `/jobs` and `/stats/orders`. */
export interface JobsView {
  reindex: ReindexStatus;
  generator: GeneratorStatus;
}

const ENDPOINTS = [
  'GET    /products?category=coffee&page=1   catalog through sql-cache (x-cache, server-timing; ?cache=off bypasses)',
  'GET    /products/:id                      one product; counts a view (Redis, journaled to PostgreSQL)',
  'GET    /products/:id/views                the live and the durable view count',
  'PUT    /products/:id                      {"price_cents": 999} in a transaction; invalidates both instances',
  'POST   /cache/invalidate                  {"tables": ["products"]}: every cached read of those tables, everywhere',
  'GET    /search?q=grinder                  full-text search through sql-cache, rate limited (10 per 10 s)',
  'GET    /top                               getOrSet: stampede lock, grace, refresh-ahead; DELETE /top forgets it; POST /top/expire',
  'POST   /login                             {"username": "alice", "password": "stratashop"}, rate limited (5 per minute)',
  'GET    /me, POST /logout                  the session (IP bound in detect mode)',
  'GET    /me/sessions, DELETE /me/sessions/:ref   your devices (at most 2), revoke one',
  'POST   /checkout                          {"productId": 1, "qty": 1} under a fenced lock; Idempotency-Key header',
  'GET    /jobs                              the reindex job: which instance claimed each period',
  'GET    /stats/orders?count=10             orders and revenue per minute (@stratacache/streams windows)',
  'GET    /metrics, /healthz, /readyz        Prometheus metrics, liveness, readiness',
];

/** Registers the operations routes. */
export async function opsRoutes(app: FastifyInstance, s: Services, jobs: JobsView): Promise<void> {
  const h = fastifyHandlers({ registry: s.registry, health: s.health });
  app.get('/metrics', h.metrics);
  app.get('/healthz', h.healthz);
  app.get('/readyz', h.readyz);

  app.get('/', async () => ({ service: 'stratashop', instance: s.config.instance, endpoints: ENDPOINTS }));

  app.get('/jobs', async () => {
    const runs = await s.pool.query(
      `SELECT period::text, instance, rows, ran_at FROM job_runs WHERE job = 'reindex' ORDER BY id DESC LIMIT 20`,
    );
    return {
      instance: s.config.instance,
      reindex: { everyMs: s.config.reindexEveryMs, ...jobs.reindex, recentRuns: runs.rows },
      orderGenerator: jobs.generator,
    };
  });

  app.get<{ Querystring: { count?: string } }>('/stats/orders', async (request, reply) => {
    const count = Math.min(60, Math.max(1, Number(request.query.count ?? 10) || 10));
    const minutes = await recentMinutes(s.windows, count);
    const stats = s.windows.stats();
    return reply.send({
      instance: s.config.instance,
      series: ORDERS_PER_MINUTE,
      minutes,
      stream: { key: s.ordersStream, generatedBy: jobs.generator.owner ?? null },
      // What this instance's consumer applied: the two instances split the stream between them.
      thisInstance: { records: stats.totals.records, applied: stats.totals.applied, duplicate: stats.totals.duplicate },
    });
  });
}
