/**
 * @stratacache/coordination/express: a rate limiter as Express middleware,
 * counted in Redis across every instance (one atomic script per decision), with
 * the IETF `RateLimit` / `RateLimit-Policy` headers, the widespread
 * `RateLimit-Limit/Remaining/Reset`, `Retry-After` and a JSON 429. It imports
 * nothing of Express: any Express 4 or 5 app takes it.
 *
 * @example
 * ```ts
 * import { rateLimit } from '@stratacache/coordination/express';
 * app.use('/api', rateLimit(redis, { limit: 100, window: '1m', trustProxy: 1 }));
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
import type { RateLimiter, RateLimitResult } from './rate-limit.js';

export type { TrustProxy } from './http/client-ip.js';
export type { HttpRateLimitOptions, HttpRequestLike, LimitedInfo, RateLimitKey } from './http/http-rate-limit.js';

/** The parts of a response the middleware uses (Express's `Response` has them). */
export interface ExpressResponseLike {
  setHeader(name: string, value: string): unknown;
  status(code: number): { json(body: unknown): unknown };
  /** Where the decision is left for later handlers (`res.locals.rateLimit`). */
  locals?: Record<string, unknown>;
}

/** The middleware, with its limiter (for `limiter.reset(key)`). */
export interface ExpressRateLimit<Req extends HttpRequestLike = HttpRequestLike> {
  (req: Req, res: ExpressResponseLike, next: (error?: unknown) => void): void;
  /** The limiter underneath: `reset('ip:203.0.113.7')` forgets a client. */
  readonly limiter: RateLimiter;
}

/**
 * Express middleware that counts each request under its key and answers 429
 * with `Retry-After` once the limit is reached. The decision is left in
 * `res.locals.rateLimit` for later handlers. When Redis cannot answer within
 * the limiter's `deadline`, `onRedisDown` decides (`'insurance'` by default:
 * a per-process limit). Other errors go to `next(error)`.
 */
export function rateLimit<Req extends HttpRequestLike = HttpRequestLike>(
  redis: StrataRedis,
  options: HttpRateLimitOptions<Req>,
): ExpressRateLimit<Uninferred<Req>> {
  const resolved = resolveHttpRateLimit(redis, options);
  const middleware = (req: Req, res: ExpressResponseLike, next: (error?: unknown) => void): void => {
    decide(resolved, req).then((decision) => {
      if (decision.kind === 'skipped') return next();
      for (const [name, value] of decision.headers) res.setHeader(name, value);
      if (res.locals) res.locals.rateLimit = decision.result satisfies RateLimitResult;
      if (decision.kind === 'allowed') return next();
      res.status(decision.status).json(decision.body);
    }, next);
  };
  return Object.assign(middleware, { limiter: resolved.limiter });
}
