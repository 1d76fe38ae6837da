/** Options of task claims and of each claim, resolved once. */
import { assertWellFormed, check, type Duration } from '@stratacache/core-client';
import { processId } from './process-id.js';

/** Options of `createTaskClaims`. */
export interface TaskClaimsOptions {
  /** Key namespace. @default 'coord' */
  namespace?: string;
  /** Who claims. @default host:pid:random of this process */
  owner?: string;
  /** TTL of a claim when a call gives none. @default '1m' */
  ttl?: Duration;
}

/** {@link TaskClaimsOptions} with defaults applied. */
export interface ResolvedTaskClaimsOptions {
  readonly namespace: string;
  readonly owner: string;
  readonly ttlMs: number;
}

/** Resolves the options of task claims; a bad one throws `ConfigError` naming it. */
export function resolveTaskClaimsOptions(options: TaskClaimsOptions = {}): ResolvedTaskClaimsOptions {
  const o = check.object<TaskClaimsOptions>(options, 'options');
  return Object.freeze({
    namespace: check.namespace(o.namespace ?? 'coord', 'namespace'),
    // The owner is compared inside Redis: two ill-formed owners would compare equal there.
    owner: assertWellFormed(check.name(o.owner ?? processId(), 'owner'), 'owner'),
    ttlMs: check.positiveDuration(o.ttl ?? '1m', 'ttl'),
  });
}

/** Options of `claimTask`. */
export interface ClaimOptions {
  /** How long the claim lives. */
  ttl?: Duration;
  /** For periodic tasks: claim for one period (same as ttl). */
  interval?: Duration;
  /** Claim as this owner instead of the default. */
  owner?: string;
  /** Try only with this chance (0-1), to spread periodic work over a fleet. @default 1 */
  probability?: number;
}

/** One claim's options, resolved against the defaults. */
export function resolveClaimOptions(
  options: ClaimOptions,
  defaults: ResolvedTaskClaimsOptions,
): { ttlMs: number; owner: string; probability: number } {
  const o = check.object<ClaimOptions>(options, 'options');
  const ttlMs =
    o.ttl !== undefined
      ? check.positiveDuration(o.ttl, 'ttl')
      : o.interval !== undefined
        ? check.positiveDuration(o.interval, 'interval')
        : defaults.ttlMs;
  return {
    ttlMs,
    owner: o.owner === undefined ? defaults.owner : assertWellFormed(check.name(o.owner, 'owner'), 'owner'),
    probability: check.fraction(o.probability ?? 1, 'probability'),
  };
}
