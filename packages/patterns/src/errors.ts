/**
 * Errors of @stratacache/patterns, on the shared stratacache error base (so
 * `StratacacheError.isInstance` and `code` work across packages).
 */
import { StratacacheError, type StratacacheErrorOptions } from '@stratacache/core-client';

/** The factory ran past its hard timeout and there was no stale value to serve. */
export class FactoryTimeoutError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_FACTORY_TIMEOUT', message, options);
  }
}

/**
 * A factory failure remembered by negative caching (`cacheErrors`): thrown
 * on hits until its TTL ends, carrying the original error's name and message.
 */
export class CachedFactoryError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_FACTORY_CACHED', message, options);
  }
}

/** Thrown by `ctx.fail()` inside a factory: fail this load, keep (and serve) the stale value. */
export class FactoryFailedError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_FACTORY_FAILED', message, options);
  }
}
