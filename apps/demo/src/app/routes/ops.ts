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

/** The jobs' live status, for `/jobs` and `/stats/orders`. */
export interface JobsView {
  reindex: ReindexStatus;
  generator: GeneratorStatus;
  streamKey: string;
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
  'GET    /stats/orders                      orders and revenue per minute (needs @stratacache/streams)',
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

  app.get('/stats/orders', async (_request, reply) => {
    // The windows come from @stratacache/streams, which is not in this repository yet. Until it is, this
    // endpoint says so rather than compute something that would look like the real thing.
    const length = await s.redis.run('xlen', (c) => c.xlen(jobs.streamKey)).catch(() => null);
    return reply.code(503).send({
      error: 'windows-unavailable',
      message:
        'Per-minute order windows need @stratacache/streams (createWindowAggregator), which has not landed in this ' +
        'repository yet. The order events are being written to the Redis Stream below; the windows will be ' +
        'computed from it once the package exists.',
      stream: { key: jobs.streamKey, length, generatedBy: jobs.generator.owner ?? null },
    });
  });
}
