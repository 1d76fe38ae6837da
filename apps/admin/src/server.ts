/**
 * Builds the console: one Redis client, the invalidation bus, the audit log,
 * the INFO sampler and alerts, the console's own sessions (through
 * `@stratacache/sessions`' Fastify store), the security plugins and guards,
 * then the views. `inject()` works on the returned app without a socket.
 */
import { join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifySession from '@fastify/session';
import fastifyStatic from '@fastify/static';
import { createRateLimiter } from '@stratacache/coordination';
import { createRedis, StratacacheError, type StrataRedis } from '@stratacache/core-client';
import { createInvalidationBus } from '@stratacache/invalidation';
import {
  type AlertEvent,
  breakerClosedCheck,
  busConnectedCheck,
  createAlerts,
  createHealth,
  pingCheck,
  registerMetrics,
} from '@stratacache/metrics';
import { createSessionManager } from '@stratacache/sessions';
import { createFastifyStore, type StoredSession } from '@stratacache/sessions/fastify';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import { AuditLog } from './audit.js';
import { type AdminOptions, type ResolvedAdminOptions, resolveAdminOptions } from './config.js';
import type { AdminContext, User } from './context.js';
import { FeedHub } from './feed-hub.js';
import type { SafeHtml } from './html.js';
import { html } from './html.js';
import { errorBox, page } from './layout.js';
import { hashPassword, oneTimePassword, parsePasswordHash } from './password.js';
import { pageContext, sendPage } from './respond.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerCoordinationRoutes } from './routes/coordination.js';
import { registerFeedRoutes } from './routes/feed.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerOverviewRoutes } from './routes/overview.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { registerTagRoutes } from './routes/tags.js';
import { registerWindowRoutes } from './routes/windows.js';
import { registerWriteBehindRoutes } from './routes/write-behind.js';
import { Sampler } from './sampler.js';
import { HttpError, installGuards } from './security.js';
import { WindowHub } from './window-hub.js';

/** What {@link buildAdminServer} takes: the options, plus a client of your own (tests) and the environment. */
export interface BuildOptions extends AdminOptions {
  /** A client to use instead of one from the environment; not closed by `close()`. */
  redis?: StrataRedis;
  /** Where variables are read from. @default process.env */
  env?: Record<string, string | undefined>;
  /** Fastify's logger. @default false */
  logger?: boolean;
}

/** The built console. */
export interface AdminServer {
  app: FastifyInstance;
  context: AdminContext;
  /** Every route of the console with its access level (the tests walk them all). */
  routes: ReadonlyArray<{ method: string; url: string; access: string }>;
  /** The one-time admin password, when none was configured and the interface is loopback. */
  oneTimePassword: string | undefined;
  /** Stops the sampler, alerts and bus, closes Fastify, and the Redis client when it made it. */
  close(): Promise<void>;
}

const PUBLIC_DIR = join(import.meta.dirname, '..', 'public');

const REDIS_DOWN = new Set(['E_CONNECTION', 'E_TIMEOUT', 'E_CIRCUIT_OPEN']);

async function users(options: ResolvedAdminOptions): Promise<{ users: Map<string, User>; otp: string | undefined }> {
  const map = new Map<string, User>();
  let otp: string | undefined;
  if (options.passwordHash) map.set('admin', { name: 'admin', role: 'admin', hash: options.passwordHash });
  else if (options.loopback) {
    otp = oneTimePassword();
    map.set('admin', {
      name: 'admin',
      role: 'admin',
      hash: parsePasswordHash(await hashPassword(otp, { N: 16384 }), 'otp'),
    });
  }
  if (options.readonlyPasswordHash) {
    map.set('viewer', { name: 'viewer', role: 'read-only', hash: options.readonlyPasswordHash });
  }
  return { users: map, otp };
}

/** Builds the console (not listening: call `app.listen`, or use `inject`). */
export async function buildAdminServer(input: BuildOptions = {}): Promise<AdminServer> {
  const options = resolveAdminOptions(input, input.env ?? process.env);
  const ownsRedis = input.redis === undefined;
  const redis = input.redis ?? createRedis({ env: input.env ?? process.env, connectionName: 'stratacache-admin' });
  // Metrics first: the bus-connected gauge follows events from the bus's start on.
  const registry = new Registry();
  const metrics = registerMetrics({ registry, redis });
  const bus = createInvalidationBus(redis);
  const alertLog: AlertEvent[] = [];
  const alerts = createAlerts({
    metrics,
    interval: options.sampleIntervalMs,
    for: options.sampleIntervalMs,
    onAlert: (event) => {
      alertLog.unshift(event);
      alertLog.length = Math.min(alertLog.length, 50);
    },
  });
  const health = createHealth({
    redis,
    timeout: '1s',
    checks: { redis: pingCheck(redis), breaker: breakerClosedCheck(redis), bus: busConnectedCheck(bus) },
  });
  const sampler = new Sampler(redis, options.sampleIntervalMs, options.samplePoints);
  const feed = new FeedHub(bus);
  const { users: userMap, otp } = await users(options);
  const context: AdminContext = {
    options,
    redis,
    bus,
    audit: new AuditLog(redis, options.auditMaxLength),
    sampler,
    health,
    alerts,
    alertLog,
    feed,
    windows: new WindowHub(redis),
    users: userMap,
    loginLimiter: createRateLimiter(redis, {
      namespace: 'admin',
      name: 'login',
      algorithm: 'sliding-window',
      limit: options.loginLimit,
      window: options.loginWindowMs,
      // Redis down: count in this process rather than let guesses through unlimited.
      onRedisDown: 'insurance',
    }),
  };

  const app = Fastify({ logger: input.logger ?? false, bodyLimit: 64 * 1024, trustProxy: false });
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
    // 'no-referrer' makes Chromium send `Origin: null` on a same-origin form post, which the
    // Origin check refuses; 'same-origin' keeps the origin for the console and tells other sites nothing.
    referrerPolicy: { policy: 'same-origin' },
    // Plain HTTP on loopback: no HSTS promise this console cannot keep.
    strictTransportSecurity: options.cookieSecure,
  });
  await app.register(fastifyFormbody);
  await app.register(fastifyCookie);
  const sessionManager = createSessionManager<StoredSession>({
    redis,
    secret: options.sessionSecret,
    namespace: 'admin-sessions',
    idleTimeout: options.sessionIdleMs,
    absoluteTimeout: '12h',
    maxSessionsPerUser: 20,
    onLimit: 'evict-oldest',
  });
  const store = createFastifyStore(sessionManager);
  await app.register(fastifySession, {
    store,
    idGenerator: store.genid,
    secret: options.sessionSecret,
    cookieName: 'strata_admin',
    saveUninitialized: false,
    cookie: {
      httpOnly: true,
      sameSite: 'strict',
      secure: options.cookieSecure,
      path: '/',
      maxAge: options.sessionIdleMs,
    },
  });
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/session' });
  installGuards(app, options);
  const routes: { method: string; url: string; access: string }[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routes.push({ method, url: route.url, access: route.config?.access ?? 'read' });
    }
  });
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/static/', index: false, list: false });

  app.addHook('onSend', async (_request, reply, payload) => {
    // Pages show Redis data: never keep them in a shared or browser cache.
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html'))
      reply.header('cache-control', 'no-store');
    return payload;
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const redisDown = StratacacheError.isInstance(error) && REDIS_DOWN.has((error as StratacacheError).code);
    const status =
      error instanceof HttpError
        ? error.statusCode
        : redisDown
          ? 503
          : error.statusCode && error.statusCode >= 400
            ? error.statusCode
            : 500;
    if (status >= 500 && !redisDown) request.log.error(error);
    const title =
      status === 401 ? 'Log in first' : status === 403 ? 'Refused' : redisDown ? 'Redis is unavailable' : 'Error';
    let body: SafeHtml;
    if (redisDown) body = errorBox('Redis did not answer; nothing was changed unless the audit log says so.', error);
    else body = html`<div class="error" role="alert"><p>${error.message}</p></div>`;
    if (request.headers['hx-request']) return reply.code(status).type('text/html; charset=utf-8').send(body.toString());
    let ctx: Awaited<ReturnType<typeof pageContext>>;
    try {
      ctx = pageContext(request, reply);
    } catch {
      ctx = { user: undefined, role: undefined, csrfToken: undefined };
    }
    return sendPage(reply, page(title, '', ctx, body), status);
  });

  app.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
    return sendPage(reply, page('Not found', '', pageContext(request, reply), html`<p>No such page.</p>`), 404);
  });

  registerAuthRoutes(app, context);
  registerOverviewRoutes(app, context);
  registerKeyRoutes(app, context);
  registerTagRoutes(app, context);
  registerSessionRoutes(app, context);
  registerCoordinationRoutes(app, context);
  registerWriteBehindRoutes(app, context);
  registerWindowRoutes(app, context);
  registerFeedRoutes(app, context);
  registerAuditRoutes(app, context);

  sampler.start();
  feed.start();
  // The bus retries its start in the background: the console comes up (and shows errors) without Redis.
  let stopped = false;
  let busTimer: NodeJS.Timeout | undefined;
  const startBus = () => {
    bus.start().catch(() => {
      if (!stopped) {
        busTimer = setTimeout(startBus, 5000);
        busTimer.unref();
      }
    });
  };
  startBus();

  let closing: Promise<void> | undefined;
  return {
    app,
    context,
    routes,
    oneTimePassword: otp,
    close: () => {
      closing ??= (async () => {
        stopped = true;
        clearTimeout(busTimer);
        alerts.close();
        feed.close();
        await context.windows.close();
        await sampler.stop();
        await app.close();
        await bus.stop().catch(() => {});
        context.invalidatorsClose?.();
        metrics.unregister();
        if (ownsRedis) await redis.close();
      })();
      return closing;
    },
  };
}
