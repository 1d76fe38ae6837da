/**
 * The payload of every coordination channel, as types: what a subscriber
 * receives on `stratacache:coordination:<event>`. `CoordinationEvents` maps
 * each full channel name to its payload, so a subscriber can write
 * `subscribe(CoordinationChannels.lockAcquired, (m) => { const e = m as LockAcquiredEvent; ... })`.
 * The publishing side is checked against the same types (`diagnostics.ts`),
 * so these cannot drift from what is published.
 *
 * Fields marked "not for labels" may be unbounded (one value per lock, task
 * or key): use them in logs and traces, never as metric labels.
 */
import type { CoordinationChannels } from './diagnostics.js';
import type { RateLimitAlgorithm, RateLimitResult } from './rate-limit.js';

/** Fields of every lock event. */
export type LockEventBase = {
  /** Key namespace of the lock manager. */
  namespace: string;
  /** The lock family: the name up to its first `:` (`invoice:42` -> `invoice`). */
  lock: string;
  /** The full lock name. Not for labels. */
  name: string;
};

/** `lock-acquired`: a lock was taken. */
export type LockAcquiredEvent = LockEventBase & {
  /** From the `acquire` call to success, in ms. */
  waitMs: number;
  /** Attempts it took (1: free at once). */
  attempts: number;
  /** The lock's fencing token. */
  fence: number;
};

/** `lock-contended`: the first attempt of an `acquire` found the lock held (the call may still get it). */
export type LockContendedEvent = LockEventBase;

/** `lock-timeout`: an `acquire` gave up and resolved null. */
export type LockTimeoutEvent = LockEventBase & {
  waitMs: number;
  /** Gave up because its `signal` aborted, not because `wait` ran out. */
  aborted: boolean;
};

/** `lock-released`: a handle was released. */
export type LockReleasedEvent = LockEventBase & {
  holdMs: number;
  /** `false`: the lock was no longer this handle's when it was released. */
  held: boolean;
};

/** Why a held lock was lost. */
export type LockLostReason = 'expired' | 'not-held' | 'extend-failed' | 'max-extensions';

/** `lock-lost`: a held lock was lost (at most once per handle). */
export type LockLostEvent = LockEventBase & {
  reason: LockLostReason;
};

/** `fence-refused`: `fencedSet` refused a write carrying an older fencing token. */
export type FenceRefusedEvent = {
  namespace: string;
  /** The fenced key. Not for labels. */
  key: string;
  fence: number;
};

/** What a task-claim call ended with. */
export type ClaimEventResult = 'claimed' | 'held' | 'skipped' | 'renewed' | 'released' | 'not-owner';

/** `claim`: a task claim call ended. */
export type ClaimEvent = {
  namespace: string;
  result: ClaimEventResult;
  /** The task id. Not for labels. */
  task: string;
};

/** `heartbeat`: a worker beat. */
export type HeartbeatEvent = {
  namespace: string;
  group: string;
};

/** `heartbeat-dead`: what `dead()` found. */
export type HeartbeatDeadEvent = HeartbeatEvent & {
  count: number;
};

/** `rate-limit`: a rate-limit decision. */
export type RateLimitEvent = {
  namespace: string;
  /** The limiter's name. */
  limiter: string;
  algorithm: RateLimitAlgorithm;
  /** `blocked`: refused by a penalty block (`block` option). */
  decision: 'allowed' | 'limited' | 'blocked';
  source: RateLimitResult['source'];
};

/** `semaphore-acquired` and `semaphore-timeout`: a permit was taken, or an `acquire` gave up. */
export type SemaphoreWaitEvent = {
  namespace: string;
  semaphore: string;
  waitMs: number;
};

/** `semaphore-released`: a permit was released. */
export type SemaphoreReleasedEvent = {
  namespace: string;
  semaphore: string;
  holdMs: number;
  /** `false`: the permit had expired. */
  held: boolean;
};

/** Payloads by the short event keys of `CoordinationChannels` (`lockAcquired`, ...). */
export type CoordinationEventsByKey = {
  lockAcquired: LockAcquiredEvent;
  lockContended: LockContendedEvent;
  lockTimeout: LockTimeoutEvent;
  lockLost: LockLostEvent;
  lockReleased: LockReleasedEvent;
  fenceRefused: FenceRefusedEvent;
  claim: ClaimEvent;
  heartbeat: HeartbeatEvent;
  heartbeatDead: HeartbeatDeadEvent;
  rateLimit: RateLimitEvent;
  semaphoreAcquired: SemaphoreWaitEvent;
  semaphoreTimeout: SemaphoreWaitEvent;
  semaphoreReleased: SemaphoreReleasedEvent;
};

/**
 * Payloads by full channel name (`'stratacache:coordination:lock-acquired'`, ...):
 * `CoordinationEvents[typeof CoordinationChannels.lockAcquired]` is `LockAcquiredEvent`.
 */
export type CoordinationEvents = {
  [K in keyof CoordinationEventsByKey as (typeof CoordinationChannels)[K]]: CoordinationEventsByKey[K];
};

/** A channel set whose `publish` takes each event's own payload type (a type over core-client's `defineChannels`; internal). */
export type TypedPublisher<M> = {
  publish<K extends keyof M & string>(event: K, message: M[K]): void;
  listening(event: keyof M & string): boolean;
};
