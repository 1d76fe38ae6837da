/**
 * The Fastify application of one instance: the routes, an `x-instance` header
 * on every answer (so the tour shows which instance answered), and errors
 * mapped to answers a client can act on: Redis unavailable is a 503 saying so,
 * never a stack trace.
 */
import { StratacacheError } from '@stratacache/core-client';
import Fastify, { type FastifyInstance } from 'fastify';
import { authRoutes } from './routes/auth.js';
import { catalogRoutes } from './routes/catalog.js';
import { checkoutRoutes } from './routes/checkout.js';
import { type JobsView, opsRoutes } from './routes/ops.js';
import { topRoutes } from './routes/top.js';
import type { Services } from './services.js';

const UNAVAILABLE = new Set(['E_CONNECTION', 'E_TIMEOUT', 'E_CIRCUIT_OPEN']);

/** Builds the application (not listening yet). */
export async function buildApp(s: Services, jobs: JobsView): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-instance', s.config.instance);
  });
  app.setErrorHandler(async (error, _request, reply) => {
    if (StratacacheError.isInstance(error) && UNAVAILABLE.has((error as StratacacheError).code)) {
      return reply.code(503).send({
        error: (error as StratacacheError).code,
        message: `Redis is unavailable (${error.message}); this request needs it. Cached reads keep working.`,
      });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500)
      return reply.code(status).send({ error: 'bad-request', message: (error as Error).message });
    console.error(`${_request.method} ${_request.url}:`, error);
    return reply.code(500).send({ error: 'internal', message: (error as Error).message });
  });
  await catalogRoutes(app, s);
  await topRoutes(app, s);
  await authRoutes(app, s);
  await checkoutRoutes(app, s);
  await opsRoutes(app, s, jobs);
  return app;
}
