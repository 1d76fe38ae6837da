/**
 * @stratacache/coordination: fenced locks, semaphores, task claims,
 * heartbeats, rate limits and retry budgets on Redis.
 */

export type { ClaimOptions, ClaimResult, TaskClaimsOptions } from './claims.js';
export { createTaskClaims, TaskClaims } from './claims.js';
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
export type { AcquireOptions, FencedLock, LockManagerOptions, UsingOptions, UsingResult } from './locks.js';
export { createLocks, Locks } from './locks.js';
export { luaScripts } from './lua.generated.js';
export { MemoryLimiter } from './memory-limiter.js';
export { processId, randomToken } from './process-id.js';
export type { RateLimitAlgorithm, RateLimiterOptions, RateLimitResult, RedisDownPolicy } from './rate-limit.js';
export { createRateLimiter, RateLimiter } from './rate-limit.js';
export type { RegisterOptions, RegistryChange, RegistryEntry, RegistryOptions } from './registry.js';
export { createRegistry, findCycle, Registry } from './registry.js';
export type { RetryBudgetOptions } from './retry-budget.js';
export { createRetryBudget, RetryBudget } from './retry-budget.js';
export type { SemaphoreOptions, SemaphorePermit } from './semaphore.js';
export { createSemaphore, Semaphore } from './semaphore.js';
