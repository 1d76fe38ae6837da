/** The middleware and the hook fit Express's and Fastify's own handler types, and key functions see the framework's request. */
import type { StrataRedis } from '@stratacache/core-client';
import express, { type Request } from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { expectTypeOf } from 'vitest';
import { rateLimit as expressRateLimit } from '../src/express.js';
import { rateLimit as fastifyRateLimit } from '../src/fastify.js';

declare const redis: StrataRedis;

const app = express();
app.use(expressRateLimit(redis, { limit: 100, window: '1m' }));
app.use(
  '/api',
  expressRateLimit(redis, {
    limit: 10,
    window: '10 sec',
    trustProxy: ['10.0.0.0/8'],
    key: (req: Request) => req.get('x-api-key'),
    skip: (req: Request) => req.path === '/health',
  }),
);
app.get(
  '/login',
  expressRateLimit(redis, { limit: 5, window: '15m', key: 'user', onRedisDown: 'closed' }),
  (_req, res) => {
    res.json({ ok: true });
  },
);
// @ts-expect-error: '10 parsecs' is not a duration
expressRateLimit(redis, { limit: 1, window: '10 parsecs' });

const fastify = Fastify();
fastify.addHook('onRequest', fastifyRateLimit(redis, { limit: 100, window: '1m' }));
fastify.get(
  '/search',
  {
    onRequest: fastifyRateLimit(redis, {
      limit: 10,
      window: '1m',
      key: (request: FastifyRequest) => (request.headers['x-tenant'] as string | undefined) ?? undefined,
    }),
  },
  async () => ({ ok: true }),
);

expectTypeOf(expressRateLimit(redis, { limit: 1, window: 1000 }).limiter.reset).toBeFunction();
expectTypeOf(fastifyRateLimit(redis, { limit: 1, window: 1000 }).limiter.reset).toBeFunction();
