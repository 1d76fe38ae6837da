/**
 * Rate limits, each one atomic Lua script on server time that never leaves a
 * key without a TTL: fixed window, sliding window (exact log, or approximate
 * two-window counter), token bucket and GCRA. Results are data. When Redis
 * cannot answer within `deadline`, a declared policy decides: fail open, fail
 * closed, or an in-memory insurance limiter.
 */
import { ConfigError, check, type LuaScript, StratacacheError, type StrataRedis } from '@stratacache/core-client';
import { diagnostics } from './diagnostics.js';
import { luaScripts } from './lua.generated.js';
import { MemoryLimiter } from './memory-limiter.js';
import {
  type RateLimitAlgorithm,
  type RateLimiterOptions,
  type ResolvedRateLimiterOptions,
  resolveRateLimiterOptions,
} from './rate-limit-options.js';

export type { RateLimitAlgorithm, RateLimiterOptions, RedisDownPolicy } from './rate-limit-options.js';

/** A decision. */
export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  /** Units left in the current window (or bucket). */
  remaining: number;
  /** Ms until the window resets (or the bucket is full again). */
  resetMs: number;
  /** Ms to wait before a retry can succeed; 0 when allowed. */
  retryAfterMs: number;
  /** Who decided: Redis, or the Redis-down policy. */
  source: 'redis' | 'fail-open' | 'fail-closed' | 'insurance';
}

class DeadlineExceeded extends Error {}

const SCRIPTS: Record<RateLimitAlgorithm, LuaScript> = {
  'fixed-window': luaScripts.ratelimitFixedWindow,
  'sliding-log': luaScripts.ratelimitSlidingLog,
  'sliding-window': luaScripts.ratelimitSlidingWindow,
  'token-bucket': luaScripts.ratelimitTokenBucket,
  gcra: luaScripts.ratelimitGcra,
};

/** A rate limiter. */
export class RateLimiter {
  /** The resolved options (frozen): `options.limit` is the units allowed per window. */
  readonly options: ResolvedRateLimiterOptions;
  private readonly redis: StrataRedis;
  private readonly keys;
  private readonly insurance: MemoryLimiter;

  constructor(redis: StrataRedis, options: RateLimiterOptions) {
    this.redis = check.strataRedis(redis, 'redis');
    this.options = resolveRateLimiterOptions(options);
    this.keys = redis.keys(this.options.namespace);
    this.insurance = new MemoryLimiter(this.options.insuranceLimit, this.options.windowMs);
    // Loaded ahead of the first decision on every connection: a burst on a fresh connection
    // must not pay NOSCRIPT plus an EVAL per call, or it runs past the deadline.
    redis.registerScripts([SCRIPTS[this.options.algorithm]]);
  }

  /** The algorithm. */
  get algorithm(): RateLimitAlgorithm {
    return this.options.algorithm;
  }

  /** The window, in ms. */
  get windowMs(): number {
    return this.options.windowMs;
  }

  /**
   * Units allowed per window.
   * @deprecated Read `options.limit`; `max` goes in the next major version.
   */
  get max(): number {
    return this.options.limit;
  }

  private stateKeys(id: string): [string, string] {
    const tag = this.keys.tag(`${this.options.name}:${check.name(id, 'id')}`);
    return [this.keys.key('rl', tag, 'state'), this.keys.key('rl', tag, 'block')];
  }

  /**
   * Counts `cost` units for `id` and says whether they are allowed.
   *
   * @example
   * ```ts
   * const { allowed, retryAfterMs } = await limiter.limit(`ip:${ip}`);
   * if (!allowed) reply.header('Retry-After', Math.ceil(retryAfterMs / 1000)).code(429);
   * ```
   */
  async limit(id: string, options: { cost?: number } = {}): Promise<RateLimitResult> {
    const cost = check.positiveInt(check.object<{ cost?: number }>(options, 'options').cost ?? 1, 'cost');
    const { limit, windowMs, blockMs, deadlineMs, algorithm } = this.options;
    if (cost > limit) {
      throw new ConfigError(`cost ${cost} is more than the limit ${limit}: such a request could never be allowed`, {
        context: { option: 'cost' },
      });
    }
    const keys = this.stateKeys(id);
    let timer: NodeJS.Timeout | undefined;
    try {
      // Raced, not a time budget for the command: a budget would time the command out at the deadline and
      // count a slow answer as a Redis failure in the client's shared circuit breaker.
      const reply = (await Promise.race([
        this.redis.runScript(SCRIPTS[algorithm], keys, [limit, windowMs, cost, blockMs]),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new DeadlineExceeded()), deadlineMs);
        }),
      ])) as number[];
      const allowed = Number(reply[0]) === 1;
      if (diagnostics.listening('rateLimit'))
        this.decided(allowed ? 'allowed' : Number(reply[4]) === 1 ? 'blocked' : 'limited', 'redis');
      return {
        allowed,
        limit,
        remaining: Number(reply[1]),
        resetMs: Number(reply[2]),
        retryAfterMs: Number(reply[3]),
        source: 'redis',
      };
    } catch (error) {
      if (!(error instanceof DeadlineExceeded) && !isUnavailable(error)) throw error;
      const result = this.decideWithoutRedis(id, cost);
      this.decided(result.allowed ? 'allowed' : 'limited', result.source);
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  private decided(decision: 'allowed' | 'limited' | 'blocked', source: RateLimitResult['source']): void {
    diagnostics.publish('rateLimit', {
      namespace: this.keys.namespace,
      limiter: this.options.name,
      algorithm: this.algorithm,
      decision,
      source,
    });
  }

  /** Forgets `id`'s state and any penalty block. */
  async reset(id: string): Promise<void> {
    const keys = this.stateKeys(id);
    await this.redis.run('del', (c) => c.del(...keys));
    this.insurance.reset(id);
  }

  private decideWithoutRedis(id: string, cost: number): RateLimitResult {
    const { onRedisDown, limit, windowMs } = this.options;
    if (onRedisDown === 'open') {
      return { allowed: true, limit, remaining: limit, resetMs: 0, retryAfterMs: 0, source: 'fail-open' };
    }
    if (onRedisDown === 'closed') {
      return { allowed: false, limit, remaining: 0, resetMs: windowMs, retryAfterMs: windowMs, source: 'fail-closed' };
    }
    return { ...this.insurance.take(id, cost), limit: this.insurance.limit, source: 'insurance' };
  }
}

function isUnavailable(error: unknown): boolean {
  return StratacacheError.isInstance(error) && ['E_CONNECTION', 'E_TIMEOUT', 'E_CIRCUIT_OPEN'].includes(error.code);
}

/** Creates a rate limiter. */
export function createRateLimiter(redis: StrataRedis, options: RateLimiterOptions): RateLimiter {
  return new RateLimiter(redis, options);
}
