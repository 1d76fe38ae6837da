/**
 * The public surface of @stratacache/coordination, name by name, for every entry
 * point: a plain sorted list, so that adding, removing or renaming an export
 * is a visible, reviewed change in the diff. `values` are what `import`
 * gives at run time; `types` are the type-only exports (read with the
 * TypeScript compiler).
 */
import { describePublicSurface, type PublicSurface } from '@stratacache/test-utils';

const SURFACE: PublicSurface = {
  '.': {
    file: '../src/index.ts',
    values: [
      'CoordinationChannels',
      'Heartbeats',
      'Locks',
      'RateLimiter',
      'Registry',
      'RetryBudget',
      'Semaphore',
      'TaskClaims',
      'createHeartbeats',
      'createLocks',
      'createRateLimiter',
      'createRegistry',
      'createRetryBudget',
      'createSemaphore',
      'createTaskClaims',
      'lockFamily',
    ],
    types: [
      'AcquireOptions',
      'ClaimOptions',
      'ClaimResult',
      'FencedLock',
      'FencedWriteOptions',
      'FencedWriteResult',
      'HeartbeatsOptions',
      'LockManagerOptions',
      'LocksOptions',
      'RateLimitAlgorithm',
      'RateLimitResult',
      'RateLimiterOptions',
      'RedisDownPolicy',
      'RegisterOptions',
      'RegistryChange',
      'RegistryEntry',
      'RegistryOptions',
      'Replication',
      'ResolvedHeartbeatsOptions',
      'ResolvedLocksOptions',
      'ResolvedRateLimiterOptions',
      'ResolvedRegistryOptions',
      'ResolvedRetryBudgetOptions',
      'ResolvedSemaphoreOptions',
      'ResolvedTaskClaimsOptions',
      'RetryBudgetOptions',
      'SemaphoreOptions',
      'SemaphorePermit',
      'TaskClaimsOptions',
      'UsingOptions',
      'UsingResult',
      'WorkerBeat',
    ],
  },
};

describePublicSurface(SURFACE, import.meta.url);
