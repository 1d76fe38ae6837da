/**
 * Fenced locks. One atomic script takes the lock (`SET NX PX` with a random
 * 160-bit token) and hands out the next fencing token from a per-name counter,
 * so tokens strictly increase across holders. Release and extend go through
 * compare-and-delete / compare-and-expire: a stale holder can never touch the
 * next owner's lock. See the README for when a lock is only for efficiency and
 * how to use the fencing token for correctness.
 */
import {
  ConfigError,
  ConsistencyError,
  check,
  luaScripts as coreScripts,
  type DistributedLock,
  type LockAcquireOptions,
  type LockHandle,
  type StrataRedis,
} from '@stratacache/core-client';
import { diagnostics, lockFamily, reportLockLost } from './diagnostics.js';
import {
  type AcquireOptions,
  type FencedWriteOptions,
  type LocksOptions,
  type ResolvedLocksOptions,
  resolveAcquireOptions,
  resolveLocksOptions,
  resolveReplication,
  resolveUsingOptions,
  type UsingOptions,
} from './locks-options.js';
import { luaScripts } from './lua.generated.js';
import { randomToken } from './process-id.js';
import { sleep } from './time.js';

export type {
  AcquireOptions,
  FencedWriteOptions,
  LockManagerOptions,
  LocksOptions,
  UsingOptions,
} from './locks-options.js';

/**
 * How many replicas acknowledged a write (Redis WAIT), when `waitReplicas`
 * asked for it: `safe` when at least `wanted` did.
 */
export interface Replication {
  readonly wanted: number;
  readonly acknowledged: number;
  readonly safe: boolean;
}

/** What `fencedWrite` did. */
export interface FencedWriteResult {
  /** False: refused, an equal or newer fence was used on the key already. */
  readonly written: boolean;
  /** False when the write happened but fewer replicas than asked acknowledged it (a failover could lose it). */
  readonly safe: boolean;
  /** The WAIT outcome, when `waitReplicas` asked for one and the write happened. */
  readonly replication: Replication | undefined;
}

/** A held lock. */
export interface FencedLock extends LockHandle {
  /** The random token that proves ownership. */
  readonly token: string;
  /** TTL in ms the lock was taken (or last extended) with. */
  readonly ttlMs: number;
  /**
   * Milliseconds of validity left by the monotonic clock, counted from before
   * the acquire (or extend) was sent, minus a drift allowance. 0 means assume lost.
   */
  remainingMs(): number;
  /**
   * False when `waitReplicas` asked for replicas and fewer acknowledged the
   * acquire: if the master fails over now, the promoted replica may not know
   * this lock, and grant it again. True otherwise.
   */
  readonly safe: boolean;
  /** The WAIT outcome, when `waitReplicas` asked for one. */
  readonly replication: Replication | undefined;
}

/** What `using` returns: the lock was busy, or `fn` ran (and whether the lock was lost meanwhile). */
export type UsingResult<T> = { acquired: false } | { acquired: true; value: T; lost: boolean };

// Redlock's allowance for clock drift: 2 ms plus 1% of the TTL.
const drift = (ttlMs: number) => Math.round(ttlMs * 0.01) + 2;

/** The lock manager; implements core-client's `DistributedLock`. */
export class Locks implements DistributedLock {
  /** The resolved options (frozen). */
  readonly options: ResolvedLocksOptions;
  private readonly keys;
  private readonly redis: StrataRedis;

  constructor(redis: StrataRedis, options: LocksOptions = {}) {
    this.redis = check.strataRedis(redis, 'redis');
    this.options = resolveLocksOptions(options);
    this.keys = redis.keys(this.options.namespace);
    // Loaded ahead of the first acquire on every connection (no NOSCRIPT round trip).
    redis.registerScripts([
      luaScripts.lockAcquire,
      luaScripts.fencedSet,
      coreScripts.compareAndDelete,
      coreScripts.compareAndPexpire,
    ]);
  }

  /** The Redis key of lock `name`. */
  lockKey(name: string): string {
    return this.keys.key('lock', this.keys.tag(check.name(name, 'name')));
  }

  /** The lock key and its fence counter's key, sharing one hash tag. */
  private lockKeys(name: string): [string, string] {
    const tag = this.keys.tag(check.name(name, 'name'));
    return [this.keys.key('lock', tag), this.keys.key('lock-fence', tag)];
  }

  /**
   * Takes lock `name`, waiting up to `wait`. Resolves the handle, or `null`
   * when another holds it (an outcome, not an error). Redis failures throw.
   */
  async acquire(name: string, options: AcquireOptions | LockAcquireOptions = {}): Promise<FencedLock | null> {
    const { ttlMs, waitMs, retryDelayMs: retryMs, signal, replication } = resolveAcquireOptions(options, this.options);
    const [key, fenceKey] = this.lockKeys(name);
    const called = performance.now();
    const deadline = called + waitMs;
    let attempts = 0;
    const gaveUp = (aborted: boolean): null => {
      diagnostics.publish('lockTimeout', {
        ...this.about(name),
        waitMs: performance.now() - called,
        aborted,
      });
      return null;
    };
    for (;;) {
      if (signal?.aborted) return gaveUp(true);
      const token = randomToken();
      // Validity is counted from before the request leaves: the server may set the TTL any time after.
      const started = performance.now();
      const fence = await this.redis.runScript(luaScripts.lockAcquire, [key, fenceKey], [token, ttlMs]);
      attempts++;
      if (fence !== null && fence !== undefined) {
        const replicated = await this.replicate(key, replication, 'acquire');
        const lock = this.handle(name, key, token, Number(fence), ttlMs, started, replicated);
        if (diagnostics.listening('lockAcquired')) {
          const waitMs = performance.now() - called;
          diagnostics.publish('lockAcquired', { ...this.about(name), waitMs, attempts, fence: lock.fence });
        }
        return lock;
      }
      if (attempts === 1) diagnostics.publish('lockContended', this.about(name));
      const left = deadline - performance.now();
      if (left <= 0) return gaveUp(false);
      try {
        // Never sleep past the deadline: the last attempt lands on it.
        await sleep(Math.min(left, retryMs * (0.5 + Math.random())), signal);
      } catch {
        return gaveUp(true);
      }
    }
  }

  /**
   * Runs `fn` holding lock `name`: extends it in the background before it
   * expires, hands `fn` an AbortSignal that fires when the lock is lost, an
   * extension fails or `maxExtensions` is reached, and releases it afterwards.
   */
  async using<T>(
    name: string,
    fn: (signal: AbortSignal, lock: FencedLock) => Promise<T>,
    options: UsingOptions = {},
  ): Promise<UsingResult<T>> {
    // Checked before acquiring: a bad option must not leave a lock held until its TTL.
    const { extendAt, maxExtensions } = resolveUsingOptions(options);
    check.function(fn, 'fn');
    const lock = await this.acquire(name, options);
    if (!lock) return { acquired: false };
    const controller = new AbortController();
    let extensions = 0;
    let ended = false;
    let extending: Promise<unknown> | undefined;
    let timer: NodeJS.Timeout | undefined;
    let watchdog: NodeJS.Timeout | undefined;
    const lose = (code: string, reason: string, cause?: unknown) => {
      if (!ended && !controller.signal.aborted) {
        reportLockLost(lock, this.keys.namespace, name, code);
        controller.abort(
          new ConsistencyError(`Lock ${name} lost: ${reason}. Stop work that needs exclusive access.`, {
            cause,
            context: { name },
          }),
        );
      }
    };
    const arm = () => {
      if (ended) return;
      clearTimeout(watchdog);
      // If no extension lands before validity runs out, the lock must be assumed lost.
      watchdog = setTimeout(
        () => lose('expired', 'its validity ran out before an extension succeeded'),
        lock.remainingMs(),
      );
      timer = setTimeout(() => {
        if (ended) return;
        if (extensions >= maxExtensions) {
          lose('max-extensions', `it reached maxExtensions (${maxExtensions})`);
          return;
        }
        extending = lock.extend(lock.ttlMs).then(
          (ok) => {
            if (ended) return;
            if (ok) {
              extensions++;
              if (!controller.signal.aborted) arm();
            } else lose('not-held', 'another holder has it (its TTL ran out)');
          },
          (error) => lose('extend-failed', 'an extension failed', error),
        );
      }, lock.ttlMs * extendAt);
    };
    arm();
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await fn(controller.signal, lock) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    ended = true;
    clearTimeout(timer);
    clearTimeout(watchdog);
    await extending; // an extension in flight lands before the release, never after it
    // Lost if the signal fired, if validity ran out while fn blocked the event loop
    // (timers could not run), or if the lock was no longer ours to release.
    const expired = lock.remainingMs() === 0;
    const released = await lock.release().catch(() => false);
    if (expired && released) reportLockLost(lock, this.keys.namespace, name, 'expired');
    if (!outcome.ok) throw outcome.error;
    return { acquired: true, value: outcome.value, lost: controller.signal.aborted || expired || !released };
  }

  /**
   * Writes `value` to `key` only if `fence` is not older than the newest fence
   * already used on it: the storage-side check that makes a lock safe for
   * correctness (Kleppmann). Resolves whether it was written. (`fencedWrite`
   * does the same and also reports replication.)
   */
  async fencedSet(key: string, value: string | Buffer, fence: number): Promise<boolean> {
    if (this.redis.mode === 'cluster' && !/\{[^}]+\}/.test(key)) {
      throw new ConfigError(
        `fencedSet on Redis Cluster needs a key with a hash tag (build it with keys.tag()), so the value and its fence share a slot; got ${key}`,
      );
    }
    check.name(key, 'key');
    check.nonNegativeInt(fence, 'fence');
    const fenceKey = `${key}:fence`;
    const written = (await this.redis.runScript(luaScripts.fencedSet, [key, fenceKey], [value, fence])) === 1;
    if (!written) diagnostics.publish('fenceRefused', { namespace: this.keys.namespace, key, fence });
    return written;
  }

  /**
   * `fencedSet`, then (with `waitReplicas`) WAIT on the connection that
   * carried it: resolves whether it was written and whether enough replicas
   * acknowledged it (`safe`).
   */
  async fencedWrite(
    key: string,
    value: string | Buffer,
    fence: number,
    options: FencedWriteOptions = {},
  ): Promise<FencedWriteResult> {
    const replication = resolveReplication(check.object<FencedWriteOptions>(options, 'options'), this.options);
    const written = await this.fencedSet(key, value, fence);
    if (!written) return { written, safe: true, replication: undefined };
    const replicated = await this.replicate(key, replication, 'fenced-write');
    return { written, safe: replicated?.safe ?? true, replication: replicated };
  }

  /** WAIT for `replicas` (none asked: undefined), reporting a shortfall. */
  private async replicate(
    key: string,
    { replicas, timeoutMs }: { replicas: number; timeoutMs: number },
    op: 'acquire' | 'fenced-write',
  ): Promise<Replication | undefined> {
    if (replicas === 0) return undefined;
    const acknowledged = await this.redis.waitForReplicas(key, replicas, timeoutMs);
    const safe = acknowledged >= replicas;
    if (!safe) {
      diagnostics.publish('replicationShort', { namespace: this.keys.namespace, op, wanted: replicas, acknowledged });
    }
    return { wanted: replicas, acknowledged, safe };
  }

  /** The bounded fields of a lock event (the full name is for logs, not labels). */
  private about(name: string): { namespace: string; lock: string; name: string } {
    return { namespace: this.keys.namespace, lock: lockFamily(name), name };
  }

  private handle(
    name: string,
    key: string,
    token: string,
    fence: number,
    ttlMs: number,
    started: number,
    replication: Replication | undefined,
  ): FencedLock {
    const redis = this.redis;
    const namespace = this.keys.namespace;
    const heldSince = performance.now();
    let validUntil = started + ttlMs - drift(ttlMs);
    let currentTtl = ttlMs;
    const lock: FencedLock = {
      name,
      token,
      fence,
      get ttlMs() {
        return currentTtl;
      },
      remainingMs: () => Math.max(0, validUntil - performance.now()),
      safe: replication?.safe ?? true,
      replication,
      async release() {
        const held = (await redis.runScript(coreScripts.compareAndDelete, [key], [token])) === 1;
        if (diagnostics.listening('lockReleased'))
          diagnostics.publish('lockReleased', {
            namespace,
            lock: lockFamily(name),
            name,
            holdMs: performance.now() - heldSince,
            held,
          });
        if (!held) reportLockLost(lock, namespace, name, 'not-held');
        return held;
      },
      async extend(newTtlMs = currentTtl) {
        const ttl = check.positiveDuration(newTtlMs, 'ttl');
        const sent = performance.now();
        const ok = (await redis.runScript(coreScripts.compareAndPexpire, [key], [token, ttl])) === 1;
        if (ok) {
          currentTtl = ttl;
          validUntil = sent + ttl - drift(ttl);
        } else reportLockLost(lock, namespace, name, 'not-held');
        return ok;
      },
    };
    return lock;
  }
}

/**
 * Creates the lock manager.
 *
 * @example
 * ```ts
 * const locks = createLocks(redis);
 * const lock = await locks.acquire('report', { ttl: '10s', wait: '2s' });
 * if (lock) try { await work(lock.fence); } finally { await lock.release(); }
 * ```
 */
export function createLocks(redis: StrataRedis, options?: LocksOptions): Locks {
  return new Locks(redis, options);
}
