/**
 * Everything one shop instance holds, built from stratacache's layers:
 *
 * - core-client: one managed Redis connection (fail-fast timeouts, breaker);
 * - invalidation: the bus that keeps every instance's memory tier coherent;
 * - patterns: the Cache behind `/top` (stampede lock, grace, refresh-ahead) and
 *   the durable write-behind journal of the view counters;
 * - sql-cache: catalog reads cached under their tables, invalidated after commit;
 * - coordination: fenced locks (checkout), task claims (reindex, order generator),
 *   rate limits (login, search) through its Fastify middleware;
 * - sessions: logins with a device limit and IP binding in detect mode;
 * - streams: orders and revenue per minute from the orders stream (exactly once);
 * - metrics: Prometheus metrics of all of the above, liveness and readiness.
 */
import { createLocks, createTaskClaims } from '@stratacache/coordination';
import { type FastifyRateLimit, rateLimit } from '@stratacache/coordination/fastify';
import { createRedis, type StrataRedis } from '@stratacache/core-client';
import { createInvalidationBus, type InvalidationBus } from '@stratacache/invalidation';
import {
  breakerClosedCheck,
  busConnectedCheck,
  createHealth,
  type Health,
  type MetricsHandle,
  pingCheck,
  registerMetrics,
} from '@stratacache/metrics';
import { type Cache, createCache } from '@stratacache/patterns';
import { msgpack } from '@stratacache/serializers';
import { createSessionManager, type SessionManager } from '@stratacache/sessions';
import { createSqlCache, type SqlCache } from '@stratacache/sql-cache';
import { pgDriver } from '@stratacache/sql-cache/pg';
import type { WindowAggregator } from '@stratacache/streams';
import type { FastifyRequest } from 'fastify';
import pg from 'pg';
import { Registry } from 'prom-client';
import type { InstanceConfig } from './config.js';
import { COORD_NAMESPACE, SESSIONS } from './redis-names.js';
import { createViewCounter, type ViewCounter } from './views.js';
import { createOrdersWindows } from './windows.js';

/** Data kept in a shop session. */
export interface ShopSession {
  username: string;
  loggedInAt: number;
}

/** What both rate limits share. */
const RATE_LIMIT = { algorithm: 'sliding-log', sourceHeader: 'x-ratelimit-source' } as const;

/** One instance's services. */
export interface Services {
  config: InstanceConfig;
  redis: StrataRedis;
  bus: InvalidationBus;
  pool: pg.Pool;
  /** The Cache of computed values (`/top`): memory + Redis, lock against stampedes. */
  cache: Cache;
  /** The Cache sql-cache stores query results in. */
  sqlStore: Cache;
  sql: SqlCache;
  locks: ReturnType<typeof createLocks>;
  claims: ReturnType<typeof createTaskClaims>;
  /**
   * coordination's Fastify rate-limit hooks, per client address, for a route's `onRequest`:
   * `RateLimit-*` headers, a JSON 429 with `Retry-After`; `x-ratelimit-source` when Redis did not decide.
   */
  rateLimits: { login: FastifyRateLimit<FastifyRequest>; search: FastifyRateLimit<FastifyRequest> };
  sessions: SessionManager<ShopSession>;
  views: ViewCounter;
  /** The Redis Stream of order events (generated and real). */
  ordersStream: string;
  /** Per-minute windows over `ordersStream`. */
  windows: WindowAggregator;
  registry: Registry;
  metrics: MetricsHandle;
  health: Health;
  /** Keys of the shop's own Redis data (streams, counters). */
  keys: ReturnType<StrataRedis['keys']>;
  close(): Promise<void>;
}

/** Connects and builds the services of one instance. */
export async function createServices(config: InstanceConfig): Promise<Services> {
  const redis = createRedis({ url: config.redisUrl, connectionName: `stratashop-${config.instance}` });
  // Metrics first: gauges that follow events (bus connected, breaker) need to hear the first event.
  const registry = new Registry();
  const bus = createInvalidationBus(redis, { instanceId: `instance-${config.instance}` });
  const locks = createLocks(redis, { namespace: COORD_NAMESPACE });

  const cache = createCache({
    redis,
    bus,
    namespace: 'shop',
    lock: locks,
    memory: { maxEntries: 1000, ttl: '30s' },
  });
  const sqlStore = createCache({
    redis,
    bus,
    namespace: 'sql',
    tags: 'lazy',
    serializer: msgpack({ records: true }),
    // Bounds how long an instance that missed a bus message can serve its memory copy.
    memory: { maxEntries: 5000, ttl: '1m' },
  });
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: 10,
    ...(config.dbSchema !== 'public' ? { options: `-c search_path=${config.dbSchema}` } : {}),
  });
  pool.on('error', (error) => console.error('database pool:', error.message));
  const sql = createSqlCache({
    cache: sqlStore,
    db: pgDriver(pool),
    redis,
    bus,
    tables: { users: { ttl: '10m' }, reviews: { category: 'reference' } },
  });
  const sessions = createSessionManager<ShopSession>({
    redis,
    secret: config.sessionSecret,
    namespace: SESSIONS.namespace,
    idleTimeout: '30m',
    absoluteTimeout: '8h',
    maxSessionsPerUser: SESSIONS.maxPerUser,
    onLimit: 'evict-oldest',
    bindIp: 'detect',
  });
  const metrics = registerMetrics({ registry, redis, caches: [cache, sqlStore], sessions: [sessions] });
  await bus.start();

  const views = createViewCounter(redis, pool, config.instance);
  await views.start();
  const ordersStream = redis.keys('shop').key('stream', 'orders');
  const windows = createOrdersWindows(redis, ordersStream, config.instance);
  await windows.start();
  const windowChecks = windows.healthChecks();

  const health = createHealth({
    redis,
    timeout: '1s',
    checks: {
      redis: pingCheck(redis),
      breaker: breakerClosedCheck(redis),
      bus: busConnectedCheck(bus),
      database: async () => {
        await pool.query('SELECT 1');
        return true;
      },
      // The orders stream's consumer (connected, not far behind): the streams package's own ready checks.
      ...Object.fromEntries(
        Object.entries(windowChecks.ready)
          .filter(([name]) => name !== 'breaker') // the same breaker as above
          .map(([name, check]) => [`orders-${name}`, check]),
      ),
    },
  });

  const services: Services = {
    config,
    redis,
    bus,
    pool,
    cache,
    sqlStore,
    sql,
    locks,
    claims: createTaskClaims(redis, { namespace: COORD_NAMESPACE, owner: `instance-${config.instance}` }),
    // sliding-log: exact over any window (it keeps one entry per request, which these small limits
    // make cheap), so "10 per 10 s" means exactly that, also across a window edge. Keyed by the
    // client address (`ip:127.0.0.20`), counted in Redis for both instances; with Redis down the
    // default 'insurance' policy counts in process memory, and the source header says so.
    rateLimits: {
      login: rateLimit<FastifyRequest>(redis, { name: 'login', ...RATE_LIMIT, limit: 5, window: '1m' }),
      search: rateLimit<FastifyRequest>(redis, { name: 'search', ...RATE_LIMIT, limit: 10, window: '10s' }),
    },
    sessions,
    views,
    ordersStream,
    windows,
    registry,
    metrics,
    health,
    keys: redis.keys('shop'),
    async close() {
      // The journal first (it drains into PostgreSQL), then what depends on Redis, then the connections.
      await views.close().catch((e) => console.error('closing the view journal:', (e as Error).message));
      await windows.stop().catch((e) => console.error('stopping the order windows:', (e as Error).message));
      sql.close();
      cache.close();
      sqlStore.close();
      metrics.unregister();
      // At shutdown a connection that is already gone (Redis stopped first) is nothing to report.
      await bus.stop().catch(() => {});
      await pool.end().catch(() => {});
      await redis.close().catch(() => {});
    },
  };
  return services;
}
