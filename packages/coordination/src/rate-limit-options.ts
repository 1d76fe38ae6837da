/** Options of a rate limiter, resolved once. */
import { check, type Duration } from '@stratacache/core-client';

/** The algorithms. */
export type RateLimitAlgorithm = 'fixed-window' | 'sliding-log' | 'sliding-window' | 'token-bucket' | 'gcra';

/** Every algorithm, in the order the README lists them. */
export const RATE_LIMIT_ALGORITHMS: readonly RateLimitAlgorithm[] = Object.freeze([
  'fixed-window',
  'sliding-log',
  'sliding-window',
  'token-bucket',
  'gcra',
]);

/** What to do when Redis cannot answer in time. */
export type RedisDownPolicy = 'open' | 'closed' | 'insurance';

/** Options of `createRateLimiter`. */
export interface RateLimiterOptions {
  /** The algorithm. @default 'sliding-window' */
  algorithm?: RateLimitAlgorithm;
  /** Units allowed per window (bucket capacity for token-bucket, burst for GCRA). Required. */
  limit: number;
  /** The window (the time to refill a whole bucket for token-bucket). Required. */
  window: Duration;
  /** After a denial, deny everything for this long (a penalty); 0 for none. @default none */
  block?: Duration;
  /** Limiter name, part of every key (one limiter per name). @default the algorithm */
  name?: string;
  /** Key namespace. @default 'ratelimit' */
  namespace?: string;
  /** Policy when Redis is down or slower than `deadline`. @default 'insurance' */
  onRedisDown?: RedisDownPolicy;
  /** How long a decision may wait for Redis. @default '250ms' */
  deadline?: Duration;
  /** In-memory limit per process for the insurance policy. @default limit */
  insuranceLimit?: number;
}

/** {@link RateLimiterOptions} with defaults applied, durations in ms. */
export interface ResolvedRateLimiterOptions {
  readonly algorithm: RateLimitAlgorithm;
  readonly limit: number;
  readonly windowMs: number;
  /** 0 when there is no penalty block. */
  readonly blockMs: number;
  readonly name: string;
  readonly namespace: string;
  readonly onRedisDown: RedisDownPolicy;
  readonly deadlineMs: number;
  readonly insuranceLimit: number;
}

/** Resolves a limiter's options; a bad one throws `ConfigError` naming it. */
export function resolveRateLimiterOptions(options: RateLimiterOptions): ResolvedRateLimiterOptions {
  const o = check.object<RateLimiterOptions>(options, 'options');
  const algorithm = check.oneOf(o.algorithm ?? 'sliding-window', 'algorithm', RATE_LIMIT_ALGORITHMS);
  const limit = check.positiveInt(o.limit, 'limit');
  return Object.freeze({
    algorithm,
    limit,
    windowMs: check.positiveDuration(o.window, 'window'),
    blockMs: check.nonNegativeDuration(o.block ?? 0, 'block'),
    name: check.name(o.name ?? algorithm, 'name'),
    namespace: check.namespace(o.namespace ?? 'ratelimit', 'namespace'),
    onRedisDown: check.oneOf(o.onRedisDown ?? 'insurance', 'onRedisDown', ['open', 'closed', 'insurance'] as const),
    deadlineMs: check.positiveDuration(o.deadline ?? '250ms', 'deadline'),
    insuranceLimit: check.positiveInt(o.insuranceLimit ?? limit, 'insuranceLimit'),
  });
}
