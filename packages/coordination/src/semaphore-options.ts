/** Options of a semaphore, resolved once. */
import { check, type Duration } from '@stratacache/core-client';

/** Options of `createSemaphore`. */
export interface SemaphoreOptions {
  /** Holders allowed at once. Required. */
  limit: number;
  /** How long a slot is held unless released or extended. @default '30s' */
  ttl?: Duration;
  /** Key namespace. @default 'coord' */
  namespace?: string;
  /** Pause between attempts while waiting. @default '50ms' */
  retryDelay?: Duration;
}

/** {@link SemaphoreOptions} with defaults applied, durations in ms. */
export interface ResolvedSemaphoreOptions {
  readonly limit: number;
  readonly ttlMs: number;
  readonly namespace: string;
  readonly retryDelayMs: number;
}

/** Resolves a semaphore's options; a bad one throws `ConfigError` naming it. */
export function resolveSemaphoreOptions(options: SemaphoreOptions): ResolvedSemaphoreOptions {
  const o = check.object<SemaphoreOptions>(options, 'options');
  return Object.freeze({
    limit: check.positiveInt(o.limit, 'limit'),
    ttlMs: check.positiveDuration(o.ttl ?? '30s', 'ttl'),
    namespace: check.namespace(o.namespace ?? 'coord', 'namespace'),
    retryDelayMs: check.positiveDuration(o.retryDelay ?? '50ms', 'retryDelay'),
  });
}
