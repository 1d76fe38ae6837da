/**
 * Rate limits, each one atomic Lua script on server time that never leaves a
 * key without a TTL: fixed window, sliding window (exact log, or approximate
 * two-window counter), token bucket and GCRA. Results are data. When Redis
 * cannot answer within `deadline`, a declared policy decides: fail open, fail
 * closed, or an in-memory insurance limiter.
 */
import {
  ConfigError,
  type Duration,
  type LuaScript,
  StratacacheError,
  type StrataRedis,
  toMs,
} from '@stratacache/core-client';
import { diagnostics } from './diagnostics.js';
import { luaScripts } from './lua.generated.js';
import { MemoryLimiter } from './memory-limiter.js';
import { checkName, positiveInt, positiveMs } from './options.js';

/** The algorithms. */
export type RateLimitAlgorithm = 'fixed-window' | 'sliding-log' | 'sliding-window' | 'token-bucket' | 'gcra';

/** What to do when Redis cannot answer in time. */
export type RedisDownPolicy = 'open' | 'closed' | 'insurance';

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** The algorithm. @default 'sliding-window' */
  algorithm?: RateLimitAlgorithm;
  /** Units allowed per window (bucket capacity for token-bucket, burst for GCRA). */
  limit: number;
  /** The window (the time to refill a whole bucket for token-bucket). */
  window: Duration;
  /** After a denial, deny everything for this long (a penalty). @default none */
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

const SCRIPTS: Record<RateLimitAlgorithm, LuaScript> = {
  'fixed-window': luaScripts.ratelimitFixedWindow,
  'sliding-log': luaScripts.ratelimitSlidingLog,
  'sliding-window': luaScripts.ratelimitSlidingWindow,
  'token-bucket': luaScripts.ratelimitTokenBucket,
  gcra: luaScripts.ratelimitGcra,
};

class DeadlineExceeded extends Error {}

/** A rate limiter. */
export class RateLimiter {
  readonly algorithm: RateLimitAlgorithm;
  /** Units allowed per window. */
  readonly max: number;
  readonly windowMs: number;
  private readonly blockMs: number;
  private readonly deadlineMs: number;
  private readonly policy: RedisDownPolicy;
  private readonly keys;
  private readonly name: string;
  private readonly insurance: MemoryLimiter;

  constructor(
    private readonly redis: StrataRedis,
    options: RateLimiterOptions,
  ) {
    this.algorithm = options.algorithm ?? 'sliding-window';
    if (!(this.algorithm in SCRIPTS)) {
      throw new ConfigError(
        `algorithm must be one of ${Object.keys(SCRIPTS).join(', ')}; got ${JSON.stringify(options.algorithm)}`,
      );
    }
    this.max = positiveInt(options.limit, 'limit');
    this.windowMs = positiveMs(options.window, 'window');
    this.blockMs = options.block === undefined ? 0 : toMs(options.block, 'block');
    this.deadlineMs = positiveMs(options.deadline ?? '250ms', 'deadline');
    this.policy = options.onRedisDown ?? 'insurance';
    if (!['open', 'closed', 'insurance'].includes(this.policy)) {
      throw new ConfigError(
        `onRedisDown must be 'open', 'closed' or 'insurance'; got ${JSON.stringify(options.onRedisDown)}`,
      );
    }
    this.keys = redis.keys(options.namespace ?? 'ratelimit');
    this.name = options.name ?? this.algorithm;
    checkName(this.name, 'name');
    this.insurance = new MemoryLimiter(
      positiveInt(options.insuranceLimit ?? this.max, 'insuranceLimit'),
      this.windowMs,
    );
  }

  private stateKeys(id: string): [string, string] {
    const tag = this.keys.tag(`${this.name}:${checkName(id, 'id')}`);
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
    const cost = positiveInt(options.cost ?? 1, 'cost');
    if (cost > this.max) {
      throw new ConfigError(`cost ${cost} is more than the limit ${this.max}: such a request could never be allowed`);
    }
    const keys = this.stateKeys(id);
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = (await Promise.race([
        this.redis.runScript(SCRIPTS[this.algorithm], keys, [this.max, this.windowMs, cost, this.blockMs]),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new DeadlineExceeded()), this.deadlineMs);
        }),
      ])) as number[];
      const [allowed, remaining, resetMs, retryAfterMs, blocked] = reply.map(Number) as [
        number,
        number,
        number,
        number,
        number | undefined,
      ];
      this.decided(allowed === 1 ? 'allowed' : blocked === 1 ? 'blocked' : 'limited', 'redis');
      return { allowed: allowed === 1, limit: this.max, remaining, resetMs, retryAfterMs, source: 'redis' };
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
      limiter: this.name,
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
    if (this.policy === 'open') {
      return { allowed: true, limit: this.max, remaining: this.max, resetMs: 0, retryAfterMs: 0, source: 'fail-open' };
    }
    if (this.policy === 'closed') {
      return {
        allowed: false,
        limit: this.max,
        remaining: 0,
        resetMs: this.windowMs,
        retryAfterMs: this.windowMs,
        source: 'fail-closed',
      };
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
