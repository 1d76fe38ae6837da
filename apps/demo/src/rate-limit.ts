/**
 * A small Fastify plugin over `@stratacache/coordination`'s rate limiter, for
 * the demo only: the routes registered in the same scope are limited, and
 * every answer carries the limit in both header conventions clients use:
 *
 * - `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds):
 *   the widely deployed fields of the earlier IETF drafts (draft-06), read by
 *   most client libraries;
 * - `RateLimit-Policy: "search";q=10;w=10` and `RateLimit: "search";r=3;t=7`:
 *   the current draft (draft-ietf-httpapi-ratelimit-headers-10, Structured Fields);
 * - on 429, `Retry-After` (seconds) and a JSON body saying when to retry.
 *
 * coordination is about to publish a framework middleware of its own; when it
 * lands, the demo switches to it and this file goes. Until then it is the
 * shortest honest version: the decision is the limiter's (one Lua script on
 * Redis's clock), and when Redis is down the limiter's `onRedisDown` policy
 * decides (the default, insurance, counts in process memory), which the
 * `x-ratelimit-source` header shows.
 */
import type { RateLimiter, RateLimitResult } from '@stratacache/coordination';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Options of the {@link rateLimit} plugin. */
export interface RateLimitPluginOptions {
  /** The limiter deciding (its `limit` and `window` are advertised). */
  limiter: RateLimiter;
  /** The policy's name in `RateLimit-Policy` / `RateLimit`. */
  policy: string;
  /** The window of `limiter`, in seconds (advertised as `w`). */
  windowSeconds: number;
  /** Who is limited: the identity passed to `limiter.limit()`. @default the client's address */
  key?: (request: FastifyRequest) => string;
}

/** Sets the rate-limit headers of `result` on `reply`. Exported for the tests and the tour's explanations. */
export function setRateLimitHeaders(
  reply: FastifyReply,
  policy: string,
  windowSeconds: number,
  result: RateLimitResult,
): void {
  const resetSeconds = Math.max(0, Math.ceil(result.resetMs / 1000));
  const remaining = Math.max(0, result.remaining);
  reply.header('RateLimit-Limit', String(result.limit));
  reply.header('RateLimit-Remaining', String(remaining));
  reply.header('RateLimit-Reset', String(resetSeconds));
  reply.header('RateLimit-Policy', `"${policy}";q=${result.limit};w=${windowSeconds}`);
  reply.header('RateLimit', `"${policy}";r=${remaining};t=${resetSeconds}`);
  if (result.source !== 'redis') reply.header('x-ratelimit-source', result.source);
  if (!result.allowed) reply.header('Retry-After', String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))));
}

async function plugin(app: FastifyInstance, options: RateLimitPluginOptions): Promise<void> {
  const key = options.key ?? ((request: FastifyRequest) => request.ip);
  app.addHook('onRequest', async (request, reply) => {
    const result = await options.limiter.limit(`${options.policy}:${key(request)}`);
    setRateLimitHeaders(reply, options.policy, options.windowSeconds, result);
    if (!result.allowed) {
      const retryAfter = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
      return reply.code(429).send({
        error: 'rate-limited',
        message: `Too many ${options.policy} requests: ${result.limit} per ${options.windowSeconds} s. Retry in ${retryAfter} s.`,
        retryAfterSeconds: retryAfter,
      });
    }
  });
}

/**
 * The plugin. Register it inside the scope whose routes it limits
 * (`fastify-plugin` lets its hook apply to that scope rather than only to itself):
 *
 * ```ts
 * await app.register(async (scope) => {
 *   await scope.register(rateLimit, { limiter, policy: 'search', windowSeconds: 10 });
 *   scope.get('/search', handler);
 * });
 * ```
 */
export const rateLimit = fp(plugin, { name: 'stratashop-rate-limit', fastify: '5.x' });
