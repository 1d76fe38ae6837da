/** Options of a retry budget, resolved once. */
import { check, type Duration } from '@stratacache/core-client';

/** Options of `createRetryBudget`. */
export interface RetryBudgetOptions {
  /** Retries allowed across all instances per window. Required. */
  maxRetries: number;
  /** The window. @default '1m' */
  window?: Duration;
  /** Key namespace. @default 'coord' */
  namespace?: string;
}

/** {@link RetryBudgetOptions} with defaults applied. */
export interface ResolvedRetryBudgetOptions {
  readonly maxRetries: number;
  readonly windowMs: number;
  readonly namespace: string;
}

/** Resolves a retry budget's options; a bad one throws `ConfigError` naming it. */
export function resolveRetryBudgetOptions(options: RetryBudgetOptions): ResolvedRetryBudgetOptions {
  const o = check.object<RetryBudgetOptions>(options, 'options');
  return Object.freeze({
    maxRetries: check.positiveInt(o.maxRetries, 'maxRetries'),
    windowMs: check.positiveDuration(o.window ?? '1m', 'window'),
    namespace: check.namespace(o.namespace ?? 'coord', 'namespace'),
  });
}
