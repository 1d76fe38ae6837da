/**
 * The fenced lock around every stock write (checkout, restock): one holder per
 * product at a time, and each holder's fencing token (strictly greater than
 * every earlier holder's) is written with the stock, so the database itself
 * refuses a holder whose lock expired while it was paused (Kleppmann's case).
 */
import type { Services } from '../services.js';

/** What a stock write under the lock produced. */
export type LockedOutcome<T> = { kind: 'done'; value: T; lock: LockInfo } | { kind: 'busy'; message: string };

/** The lock a write ran under, as the responses show it. */
export interface LockInfo {
  name: string;
  fence: number;
  holder: string;
  /** How long the lock was held, in ms. */
  heldMs: number;
  /** Whether the lock was still ours when released (false: it expired while we held it). */
  releasedInTime: boolean;
}

/**
 * Runs `fn(fence)` holding `stock:<productId>`. `pauseMs` sleeps after the
 * lock is taken, standing in for a GC pause or a stalled VM (the tour uses it
 * to let the lock expire under a holder).
 */
export async function withStockLock<T>(
  s: Services,
  productId: number,
  fn: (fence: number) => Promise<T>,
  options: { ttlMs?: number; pauseMs?: number } = {},
): Promise<LockedOutcome<T>> {
  const name = `stock:${productId}`;
  // Waiters retry (jittered), they do not queue: wait long enough for 50 checkouts of one product
  // on a busy machine, each a transaction on PGlite, which runs one statement at a time.
  const lock = await s.locks.acquire(name, { ttl: options.ttlMs ?? 5000, wait: '60s' });
  if (!lock) return { kind: 'busy', message: `the lock ${name} stayed held for 60 s; try again` };
  const t0 = performance.now();
  let value: T;
  let releasedInTime = false;
  try {
    if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    value = await fn(lock.fence);
  } finally {
    // A release after expiry resolves false and touches nothing (compare-and-delete).
    releasedInTime = await lock.release().catch(() => false);
  }
  return {
    kind: 'done',
    value,
    lock: {
      name,
      fence: lock.fence,
      holder: `instance-${s.config.instance}`,
      heldMs: Math.round(performance.now() - t0),
      releasedInTime,
    },
  };
}
