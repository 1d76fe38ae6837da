/**
 * @stratacache/coordination: fenced locks, semaphores, task claims,
 * heartbeats, rate limits and retry budgets on Redis.
 *
 * Internals (the Lua scripts, the in-memory insurance limiter, token and
 * process-id helpers, the cycle finder) are not exported; `test/exports.test.ts`
 * lists every public name.
 */

export type { ClaimOptions, ClaimResult, TaskClaimsOptions } from './claims.js';
export { createTaskClaims, TaskClaims } from './claims.js';
export type { ResolvedTaskClaimsOptions } from './claims-options.js';
export { CoordinationChannels, lockFamily } from './diagnostics.js';
export type {
  ClaimEvent,
  ClaimEventResult,
  CoordinationEvents,
  CoordinationEventsByKey,
  FenceRefusedEvent,
  HeartbeatDeadEvent,
  HeartbeatEvent,
  LockAcquiredEvent,
  LockContendedEvent,
  LockEventBase,
  LockLostEvent,
  LockLostReason,
  LockReleasedEvent,
  LockTimeoutEvent,
  RateLimitEvent,
  SemaphoreReleasedEvent,
  SemaphoreWaitEvent,
} from './events.js';
export type { HeartbeatsOptions, WorkerBeat } from './heartbeats.js';
export { createHeartbeats, Heartbeats } from './heartbeats.js';
export type { ResolvedHeartbeatsOptions } from './heartbeats-options.js';
export type {
  AcquireOptions,
  FencedLock,
  LockManagerOptions,
  LocksOptions,
  UsingOptions,
  UsingResult,
} from './locks.js';
export { createLocks, Locks } from './locks.js';
export type { ResolvedLocksOptions } from './locks-options.js';
export type { RateLimitAlgorithm, RateLimiterOptions, RateLimitResult, RedisDownPolicy } from './rate-limit.js';
export { createRateLimiter, RateLimiter } from './rate-limit.js';
export type { ResolvedRateLimiterOptions } from './rate-limit-options.js';
export type { RegisterOptions, RegistryChange, RegistryEntry, RegistryOptions } from './registry.js';
export { createRegistry, Registry } from './registry.js';
export type { ResolvedRegistryOptions } from './registry-options.js';
export type { RetryBudgetOptions } from './retry-budget.js';
export { createRetryBudget, RetryBudget } from './retry-budget.js';
export type { ResolvedRetryBudgetOptions } from './retry-budget-options.js';
export type { SemaphoreOptions, SemaphorePermit } from './semaphore.js';
export { createSemaphore, Semaphore } from './semaphore.js';
export type { ResolvedSemaphoreOptions } from './semaphore-options.js';
