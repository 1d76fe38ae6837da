/**
 * The distributed lock contract. Layers that need a lock (patterns, against
 * stampedes across processes) depend on this interface; the application
 * passes an implementation (`@stratacache/coordination` provides one), so
 * side-by-side layers never import each other.
 */

/** A held lock. */
export interface LockHandle {
  /** The lock name. */
  readonly name: string;
  /** Fencing token: strictly increasing across holders of the same name. */
  readonly fence: number;
  /** Releases the lock if still held by this handle; resolves whether it did. */
  release(): Promise<boolean>;
  /** Extends the lock if still held by this handle; resolves whether it did. */
  extend(ttlMs: number): Promise<boolean>;
}

/** Options of {@link DistributedLock.acquire}. */
export interface LockAcquireOptions {
  /** How long the lock is held unless released or extended, in ms. */
  ttlMs: number;
  /** How long to wait for a held lock, in ms; 0 tries once. */
  waitMs?: number;
  /** Cancels the wait. */
  signal?: AbortSignal;
}

/** Anything that can acquire named locks. A lock held by another is `null`, not an error. */
export interface DistributedLock {
  acquire(name: string, options: LockAcquireOptions): Promise<LockHandle | null>;
}
