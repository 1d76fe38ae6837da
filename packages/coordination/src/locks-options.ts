/** Options of the lock manager and of its `acquire` and `using` calls, each resolved once. */
import { check, type Duration, failOption, type LockAcquireOptions } from '@stratacache/core-client';

/** Options of `createLocks`. */
export interface LocksOptions {
  /** Key namespace. @default 'coord' */
  namespace?: string;
  /** TTL when `acquire` is given none. @default '30s' */
  ttl?: Duration;
  /** Pause between attempts while waiting (jittered ±50%). @default '50ms' */
  retryDelay?: Duration;
}

/**
 * The old name of {@link LocksOptions}.
 * @deprecated Use `LocksOptions`; this alias goes in the next major version.
 */
export type LockManagerOptions = LocksOptions;

/** {@link LocksOptions} with defaults applied, in ms. */
export interface ResolvedLocksOptions {
  readonly namespace: string;
  readonly ttlMs: number;
  readonly retryDelayMs: number;
}

/** Resolves the manager's options; a bad one throws `ConfigError` naming it. */
export function resolveLocksOptions(options: LocksOptions = {}): ResolvedLocksOptions {
  const o = check.object<LocksOptions>(options, 'options');
  return Object.freeze({
    namespace: check.namespace(o.namespace ?? 'coord', 'namespace'),
    ttlMs: check.positiveDuration(o.ttl ?? '30s', 'ttl'),
    retryDelayMs: check.positiveDuration(o.retryDelay ?? '50ms', 'retryDelay'),
  });
}

/** Options of `acquire`. */
export interface AcquireOptions {
  /** How long the lock lives unless released or extended. @default the manager's ttl */
  ttl?: Duration;
  /** How long to keep trying while it is held; 0 tries once. @default 0 */
  wait?: Duration;
  /** Pause between attempts. @default the manager's retryDelay */
  retryDelay?: Duration;
  /** Stops waiting (acquire then resolves null). */
  signal?: AbortSignal;
}

/** Options of `using`. */
export interface UsingOptions extends AcquireOptions {
  /** Extend when this fraction of the TTL has passed (between 0 and 1, both excluded). @default 0.5 */
  extendAt?: number;
  /** Most extensions before the signal fires: caps how long one holder can keep a lock. @default 100 */
  maxExtensions?: number;
}

/** One `acquire` call's options, resolved. */
export interface ResolvedAcquireOptions {
  readonly ttlMs: number;
  readonly waitMs: number;
  readonly retryDelayMs: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * Resolves `acquire` options: this package's `{ ttl, wait }` or core-client's
 * `DistributedLock` contract `{ ttlMs, waitMs }` (not both for one field).
 */
export function resolveAcquireOptions(
  options: AcquireOptions | LockAcquireOptions,
  defaults: ResolvedLocksOptions,
): ResolvedAcquireOptions {
  const o = check.object<AcquireOptions & Partial<LockAcquireOptions>>(options, 'options');
  if (o.ttlMs !== undefined && o.ttl !== undefined) failOption('ttl', 'and ttlMs cannot both be given', o.ttl);
  if (o.waitMs !== undefined && o.wait !== undefined) failOption('wait', 'and waitMs cannot both be given', o.wait);
  const ttlMs =
    o.ttlMs !== undefined
      ? check.positiveInt(o.ttlMs, 'ttlMs')
      : o.ttl === undefined
        ? defaults.ttlMs
        : check.positiveDuration(o.ttl, 'ttl');
  const waitMs =
    o.waitMs !== undefined
      ? check.nonNegativeDuration(o.waitMs, 'waitMs')
      : check.nonNegativeDuration(o.wait ?? 0, 'wait');
  return {
    ttlMs,
    waitMs,
    retryDelayMs:
      o.retryDelay === undefined ? defaults.retryDelayMs : check.positiveDuration(o.retryDelay, 'retryDelay'),
    signal: check.signal(o.signal, 'signal'),
  };
}

/** Resolves the `using`-only options. */
export function resolveUsingOptions(options: UsingOptions): { extendAt: number; maxExtensions: number } {
  return {
    extendAt: check.fraction(options.extendAt ?? 0.5, 'extendAt', { zero: false, one: false }),
    maxExtensions: check.positiveInt(options.maxExtensions ?? 100, 'maxExtensions'),
  };
}
