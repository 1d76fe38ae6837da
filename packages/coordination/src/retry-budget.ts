/**
 * A distributed retry budget (seed 003, retry coordination): all instances
 * together retry a failing dependency at most `maxRetries` times per window,
 * so a fleet's retries cannot become a storm. Built on the exact sliding log.
 * When Redis is down it says no (retrying blind is what the budget prevents).
 */
import type { Duration, StrataRedis } from '@stratacache/core-client';
import { RateLimiter } from './rate-limit.js';

/** Options of {@link createRetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed across all instances per window. */
  maxRetries: number;
  /** The window. @default '1m' */
  window?: Duration;
  /** Key namespace. @default 'coord' */
  namespace?: string;
}

/** A shared retry budget per dependency. */
export class RetryBudget {
  private readonly limiter: RateLimiter;

  constructor(redis: StrataRedis, options: RetryBudgetOptions) {
    this.limiter = new RateLimiter(redis, {
      algorithm: 'sliding-log',
      limit: options.maxRetries,
      window: options.window ?? '1m',
      name: 'retry-budget',
      namespace: options.namespace ?? 'coord',
      onRedisDown: 'closed',
    });
  }

  /** Asks to retry a call to `dependency`; `allowed: false` means give up (or wait `retryAfterMs`). */
  async tryRetry(dependency: string): Promise<{ allowed: boolean; remaining: number; retryAfterMs: number }> {
    const { allowed, remaining, retryAfterMs } = await this.limiter.limit(dependency);
    return { allowed, remaining, retryAfterMs };
  }
}

/** Creates a retry budget. */
export function createRetryBudget(redis: StrataRedis, options: RetryBudgetOptions): RetryBudget {
  return new RetryBudget(redis, options);
}
