/**
 * The stampede lock of getOrSet across processes: after a miss, one load
 * takes the lock and calls the factory; the others wait for its value.
 *
 * Each look sends the lock attempt first and the read of the key right after
 * it (the read goes out with the tick's batch, a microtask later; on the one
 * connection `createLocks(redis)` shares, Redis runs them in that order). If
 * the lock is ours, the read shows what its previous holder left, so a value
 * written just before the release is returned instead of loaded again; if not,
 * it is the first look at the holder's progress. Either way no round trip is
 * spent on a separate re-read. (A lock on another connection may be answered
 * after the read: then, in a window of one round trip, a second factory call
 * can happen. Its write-back is still guarded, so nothing stale is cached.)
 *
 * Waiting: the holder's write is announced on the landed channel (see
 * `landed.ts`); a waiter wakes on it, or on a timer, and looks again. The
 * timer also retries the lock, in case its holder died.
 */
import type { LockHandle } from '@stratacache/core-client';
import type { MemoryEntry } from '../memory-tier.js';
import type { ResolvedEntryOptions } from '../options.js';
import type { ArmedWait, LandedSignal, Wake } from './landed.js';
import { readRedis, served } from './read-path.js';
import type { NamespaceState } from './state.js';

const noop = () => {};

/**
 * While the landed channel is subscribed, how often a waiting load still
 * reads Redis and tries the lock on its own: only a lost message (the
 * subscriber reconnecting) or a holder that died needs it.
 */
const SIGNALLED_POLL_MS = 100;

/** What the read step found: a value to return, or what the factory works with. */
export type Prepared =
  | { done: true; value: Promise<unknown> }
  | { done: false; stale: MemoryEntry | undefined; redisUp: boolean; seen: Buffer | null };

/**
 * Takes the lock, or waits for its holder's value. Resolves the value, or what
 * the factory starts from (with `lock.handle` set when the lock is ours,
 * `null` when the wait ran out, `undefined` when the lock service failed).
 */
export async function lockOrWait(
  ns: NamespaceState,
  key: string,
  rk: string,
  opts: ResolvedEntryOptions,
  lock: { handle: LockHandle | null | undefined },
  stale: MemoryEntry | undefined,
  seen: Buffer | null,
): Promise<Prepared> {
  const deadline = performance.now() + opts.lockWaitMs;
  const signal = ns.ctx.landed;
  let delay = 2;
  let tryLock = true;
  for (;;) {
    // Armed before anything is sent: a value landing while we look wakes us at once.
    const live = signal?.live === true;
    const wait = live
      ? (signal as LandedSignal).arm(rk, Math.max(1, Math.min(SIGNALLED_POLL_MS, deadline - performance.now())))
      : sleeping(delay);
    // The lock attempt goes out first, the read with this tick's batch after it.
    const acquiring = tryLock ? acquire(ns, key, opts) : Promise.resolve(null);
    const looked = readRedis(ns, key, rk, opts, false);
    const handle = await acquiring;
    const again = await looked;
    // null: another holds it. undefined: the lock service failed, and a failing lock must not delay loads.
    if (handle !== null) {
      wait.cancel();
      lock.handle = handle;
    }
    if (again.state === 'fresh') {
      wait.cancel();
      return { done: true, value: served(ns, again.entry as MemoryEntry) };
    }
    const entry = again.entry ?? stale;
    if (again.state === 'error') {
      wait.cancel();
      return { done: false, stale: entry, redisUp: false, seen: null };
    }
    if (handle !== null || performance.now() >= deadline) {
      wait.cancel();
      return { done: false, stale: entry, redisUp: true, seen: again.seen ?? null };
    }
    stale = entry;
    seen = again.seen ?? null;
    const why = await wait.woke;
    if (!live) delay = Math.min(delay * 1.5, 50);
    // A write announced: look at it first; the lock is only worth trying when the holder let go or time passed.
    tryLock = why !== 'written';
  }
}

/** The stampede lock: a handle, `null` when another holds it, `undefined` when the lock service failed. */
function acquire(ns: NamespaceState, key: string, opts: ResolvedEntryOptions): Promise<LockHandle | null | undefined> {
  const lock = ns.ctx.lock;
  if (!lock) return Promise.resolve(undefined);
  try {
    return lock
      .acquire(`patterns:${ns.name}:${key}`, { ttlMs: Math.max(opts.lockTtlMs, opts.hardMs), waitMs: 0 })
      .catch((error: unknown) => failedLock(ns, key, error));
  } catch (error) {
    return Promise.resolve(failedLock(ns, key, error));
  }
}

/** A failing lock service must not stop loads: we load without it. */
function failedLock(ns: NamespaceState, key: string, error: unknown): undefined {
  ns.telemetry.failed('lock', key, error);
  return undefined;
}

/**
 * Releases the stampede lock. Loads of other processes waiting on it learn of
 * a written value from the write itself; of a release without one from a
 * message sent once the lock is free, so they take it at once.
 */
export function releaseLock(ns: NamespaceState, rk: string, handle: LockHandle, written: boolean): void {
  const released = handle.release().catch(noop);
  const signal = ns.ctx.landed;
  if (signal && !written) void released.then(() => signal.released(rk)).catch(noop);
}

/** A plain timer in the shape of an armed wait, for when no message can come. */
function sleeping(ms: number): ArmedWait {
  let timer: NodeJS.Timeout | undefined;
  let done!: (why: Wake) => void;
  const woke = new Promise<Wake>((resolve) => {
    done = resolve;
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return {
    woke,
    cancel: () => {
      clearTimeout(timer);
      done('timeout');
    },
  };
}
