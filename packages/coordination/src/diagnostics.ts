/**
 * Events on `node:diagnostics_channel`, named `stratacache:coordination:<event>`.
 * Metrics (and anyone) subscribe by name, so coordination never depends on
 * metrics. Label-worthy fields are bounded names only: the key namespace, the
 * lock family, the limiter, semaphore and heartbeat group names. A lock's full
 * `name`, a task id or a fenced `key` may be present for logs and traces, and
 * are documented as not for labels.
 */
import { defineChannels } from '@stratacache/core-client';
import type { CoordinationEventsByKey, LockLostReason, TypedPublisher } from './events.js';

const coordination = defineChannels('coordination', {
  /** `{ namespace, lock, name, waitMs, attempts, fence }`: a lock was taken (`waitMs` from the call to success). */
  lockAcquired: 'lock-acquired',
  /** `{ namespace, lock, name }`: an `acquire` found the lock held at its first attempt (it may still get it later). */
  lockContended: 'lock-contended',
  /** `{ namespace, lock, name, waitMs, aborted }`: an `acquire` gave up and resolved null. */
  lockTimeout: 'lock-timeout',
  /** `{ namespace, lock, name, reason }`: a held lock was lost (at most once per handle). */
  lockLost: 'lock-lost',
  /** `{ namespace, lock, name, holdMs, held }`: a handle was released (`held: false`: it was no longer ours). */
  lockReleased: 'lock-released',
  /** `{ namespace, key, fence }`: `fencedSet` refused a write with an older fencing token. */
  fenceRefused: 'fence-refused',
  /** `{ namespace, result, task }`: a task claim call ended (`result` below). */
  claim: 'claim',
  /** `{ namespace, group }`: a worker beat. */
  heartbeat: 'heartbeat',
  /** `{ namespace, group, count }`: `dead()` found `count` workers gone quiet. */
  heartbeatDead: 'heartbeat-dead',
  /** `{ namespace, limiter, algorithm, decision, source }`: a rate-limit decision. */
  rateLimit: 'rate-limit',
  /** `{ namespace, semaphore, waitMs }`: a semaphore slot was taken. */
  semaphoreAcquired: 'semaphore-acquired',
  /** `{ namespace, semaphore, waitMs }`: a semaphore `acquire` gave up. */
  semaphoreTimeout: 'semaphore-timeout',
  /** `{ namespace, semaphore, holdMs, held }`: a permit was released (`held: false`: it had expired). */
  semaphoreReleased: 'semaphore-released',
});

/** Channel names published by @stratacache/coordination. */
export const CoordinationChannels = coordination.names;

/** `publish` and `listening` of the coordination channels, each payload checked against its type (`events.ts`). */
export const diagnostics: TypedPublisher<CoordinationEventsByKey> = coordination;

/**
 * The lock family of a lock name: the part before its first `:` (`invoice:42`
 * -> `invoice`), so metrics can count locks per family without one series per
 * lock. A name without `:` is its own family.
 */
export function lockFamily(name: string): string {
  const at = name.indexOf(':');
  return at > 0 ? name.slice(0, at) : name;
}

const reportedLost = new WeakSet<object>();

/** Publishes `lock-lost` for `handle` once, however many paths notice the loss. */
export function reportLockLost(handle: object, namespace: string, name: string, reason: string): void {
  if (reportedLost.has(handle)) return;
  reportedLost.add(handle);
  diagnostics.publish('lockLost', { namespace, lock: lockFamily(name), name, reason: reason as LockLostReason });
}
