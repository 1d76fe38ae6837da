/**
 * A distributed retry budget: all instances
 * together retry a failing dependency at most `maxRetries` times per window,
 * so a fleet's retries cannot become a storm. Built on the exact sliding log.
 * When Redis is down it says no (retrying blind is what the budget prevents).
 */
import type { StrataRedis } from '@stratacache/core-client';
import { RateLimiter } from './rate-limit.js';
import {
  type ResolvedRetryBudgetOptions,
  type RetryBudgetOptions,
  resolveRetryBudgetOptions,
} from './retry-budget-options.js';

export type { RetryBudgetOptions } from './retry-budget-options.js';

/** A shared retry budget per dependency. */
export class RetryBudget {
  /** The resolved options (frozen). */
  readonly options: ResolvedRetryBudgetOptions;
  private readonly limiter: RateLimiter;

  constructor(redis: StrataRedis, options: RetryBudgetOptions) {
    this.options = resolveRetryBudgetOptions(options);
    this.limiter = new RateLimiter(redis, {
      algorithm: 'sliding-log',
      limit: this.options.maxRetries,
      window: this.options.windowMs,
      name: 'retry-budget',
      namespace: this.options.namespace,
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
