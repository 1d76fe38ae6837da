/**
 * A distributed semaphore: up to `limit` holders at once, each with a random
 * token, an expiry and a fencing token, in one atomic script (server time, so
 * client clocks do not matter).
 */
import { check, type Duration, type StrataRedis } from '@stratacache/core-client';
import { diagnostics } from './diagnostics.js';
import { luaScripts } from './lua.generated.js';
import { randomToken } from './process-id.js';
import { type ResolvedSemaphoreOptions, resolveSemaphoreOptions, type SemaphoreOptions } from './semaphore-options.js';
import { serverTimeMs, sleep } from './time.js';

export type { SemaphoreOptions } from './semaphore-options.js';

/** A held semaphore slot. */
export interface SemaphorePermit {
  readonly token: string;
  readonly fence: number;
  /** Frees the slot; resolves whether this permit still held it. */
  release(): Promise<boolean>;
  /** Extends the slot; resolves false when it was lost. */
  extend(ttl?: Duration): Promise<boolean>;
}

/** The semaphore. */
export class Semaphore {
  /** The resolved options (frozen). */
  readonly options: ResolvedSemaphoreOptions;
  private readonly redis: StrataRedis;
  private readonly holdersKey: string;
  private readonly fenceKey: string;
  private readonly limit: number;
  private readonly ttlMs: number;
  private readonly retryMs: number;
  private readonly about: { namespace: string; semaphore: string };

  constructor(redis: StrataRedis, name: string, options: SemaphoreOptions) {
    this.redis = check.strataRedis(redis, 'redis');
    check.name(name, 'name');
    this.options = resolveSemaphoreOptions(options);
    const keys = redis.keys(this.options.namespace);
    this.holdersKey = keys.key('sem', keys.tag(name));
    this.fenceKey = keys.key('sem-fence', keys.tag(name));
    this.limit = this.options.limit;
    this.ttlMs = this.options.ttlMs;
    this.retryMs = this.options.retryDelayMs;
    this.about = { namespace: keys.namespace, semaphore: name };
    redis.registerScripts([luaScripts.semaphoreAcquire, luaScripts.semaphoreRelease, luaScripts.semaphoreExtend]);
  }

  /** Takes a slot, waiting up to `wait`; resolves null when none freed in time. */
  async acquire(options: { wait?: Duration; signal?: AbortSignal } = {}): Promise<SemaphorePermit | null> {
    check.object(options, 'options');
    check.signal(options.signal, 'signal');
    const called = performance.now();
    const deadline = called + check.nonNegativeDuration(options.wait ?? 0, 'wait');
    for (;;) {
      const token = randomToken();
      const fence = await this.redis.runScript(
        luaScripts.semaphoreAcquire,
        [this.holdersKey, this.fenceKey],
        [token, this.limit, this.ttlMs],
      );
      if (fence !== null && fence !== undefined) {
        diagnostics.publish('semaphoreAcquired', { ...this.about, waitMs: performance.now() - called });
        return this.permit(token, Number(fence));
      }
      const gaveUp = () => {
        diagnostics.publish('semaphoreTimeout', { ...this.about, waitMs: performance.now() - called });
        return null;
      };
      if (options.signal?.aborted || performance.now() + this.retryMs > deadline) return gaveUp();
      try {
        await sleep(this.retryMs * (0.5 + Math.random()), options.signal);
      } catch {
        return gaveUp();
      }
    }
  }

  /** How many slots are held now (expired holders are not counted). */
  async held(): Promise<number> {
    // TIME, then ZCOUNT: one commandTimeout for both.
    const budget = this.redis.budget();
    const now = await serverTimeMs(this.redis, budget);
    return this.redis.run('zcount', (c) => c.zcount(this.holdersKey, `(${now}`, '+inf'), { budget });
  }

  private permit(token: string, fence: number): SemaphorePermit {
    const heldSince = performance.now();
    return {
      token,
      fence,
      release: async () => {
        const held = (await this.redis.runScript(luaScripts.semaphoreRelease, [this.holdersKey], [token])) === 1;
        diagnostics.publish('semaphoreReleased', { ...this.about, holdMs: performance.now() - heldSince, held });
        return held;
      },
      extend: async (ttl) =>
        (await this.redis.runScript(
          luaScripts.semaphoreExtend,
          [this.holdersKey],
          [token, ttl === undefined ? this.ttlMs : check.positiveDuration(ttl, 'ttl')],
        )) === 1,
    };
  }
}

/** Creates a semaphore named `name` with `limit` slots. */
export function createSemaphore(redis: StrataRedis, name: string, options: SemaphoreOptions): Semaphore {
  return new Semaphore(redis, name, options);
}
