/**
 * @stratacache/coordination/fastify: a rate limiter as a Fastify `onRequest`
 * hook, counted in Redis across every instance, with the IETF `RateLimit` /
 * `RateLimit-Policy` headers, the widespread `RateLimit-Limit/Remaining/Reset`,
 * `Retry-After` and a JSON 429. It imports nothing of Fastify.
 *
 * @example
 * ```ts
 * import { rateLimit } from '@stratacache/coordination/fastify';
 * app.addHook('onRequest', rateLimit(redis, { limit: 100, window: '1m' })); // every route
 * app.get('/search', { onRequest: rateLimit(redis, { limit: 10, window: '1m', name: 'search' }) }, handler);
 * ```
 */
import type { StrataRedis } from '@stratacache/core-client';
import {
  decide,
  type HttpRateLimitOptions,
  type HttpRequestLike,
  resolveHttpRateLimit,
  type Uninferred,
} from './http/http-rate-limit.js';
import type { RateLimiter } from './rate-limit.js';

export type { TrustProxy } from './http/client-ip.js';
export type { HttpRateLimitOptions, HttpRequestLike, LimitedInfo, RateLimitKey } from './http/http-rate-limit.js';

/** The parts of a reply the hook uses (Fastify's `FastifyReply` has them). */
export interface FastifyReplyLike {
  header(name: string, value: string): unknown;
  code(status: number): unknown;
  send(payload?: unknown): unknown;
}

/** The hook, with its limiter (for `limiter.reset(key)`). */
export interface FastifyRateLimit<Req extends HttpRequestLike = HttpRequestLike> {
  (request: Req, reply: FastifyReplyLike): Promise<unknown>;
  /** The limiter underneath: `reset('ip:203.0.113.7')` forgets a client. */
  readonly limiter: RateLimiter;
}

/**
 * A Fastify `onRequest` hook that counts each request under its key and
 * answers 429 with `Retry-After` once the limit is reached: add it with
 * `app.addHook('onRequest', hook)` or per route (`{ onRequest: hook }`). When
 * Redis cannot answer within the limiter's `deadline`, `onRedisDown` decides.
 * Other errors reject, so Fastify's error handler answers.
 */
export function rateLimit<Req extends HttpRequestLike = HttpRequestLike>(
  redis: StrataRedis,
  options: HttpRateLimitOptions<Req>,
): FastifyRateLimit<Uninferred<Req>> {
  const resolved = resolveHttpRateLimit(redis, options);
  const hook = async (request: Req, reply: FastifyReplyLike): Promise<unknown> => {
    const decision = await decide(resolved, request);
    if (decision.kind === 'skipped') return undefined;
    for (const [name, value] of decision.headers) reply.header(name, value);
    if (decision.kind === 'allowed') return undefined;
    reply.code(decision.status);
    // An async hook that answers returns the reply, so Fastify stops the request here.
    return reply.send(decision.body);
  };
  return Object.assign(hook, { limiter: resolved.limiter });
}
