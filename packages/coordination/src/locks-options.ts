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
  /**
   * Replicas that must acknowledge a lock acquire or a `fencedWrite` (Redis
   * WAIT, on the connection that carried the write) before it is reported
   * safe; fewer within `waitTimeout` and the lock or write is reported unsafe
   * (`safe: false`): a failover now could lose it. 0 sends no WAIT.
   * @default 0
   */
  waitReplicas?: number;
  /**
   * How long WAIT waits for the replicas. WAIT holds the client's connection
   * (on Cluster, its connection to that master) meanwhile: commands behind it
   * wait too when replicas lag. Shorter than `commandTimeout`.
   * @default '100ms'
   */
  waitTimeout?: Duration;
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
  readonly waitReplicas: number;
  readonly waitTimeoutMs: number;
}

/** Resolves the manager's options; a bad one throws `ConfigError` naming it. */
export function resolveLocksOptions(options: LocksOptions = {}): ResolvedLocksOptions {
  const o = check.object<LocksOptions>(options, 'options');
  return Object.freeze({
    namespace: check.namespace(o.namespace ?? 'coord', 'namespace'),
    ttlMs: check.positiveDuration(o.ttl ?? '30s', 'ttl'),
    retryDelayMs: check.positiveDuration(o.retryDelay ?? '50ms', 'retryDelay'),
    waitReplicas: check.nonNegativeInt(o.waitReplicas ?? 0, 'waitReplicas'),
    waitTimeoutMs: check.positiveDuration(o.waitTimeout ?? '100ms', 'waitTimeout'),
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
  /** Replicas that must acknowledge the acquire (see `LocksOptions.waitReplicas`). @default the manager's */
  waitReplicas?: number;
  /** How long WAIT waits. @default the manager's waitTimeout */
  waitTimeout?: Duration;
}

/** Options of `fencedWrite`. */
export interface FencedWriteOptions {
  /** Replicas that must acknowledge the write (see `LocksOptions.waitReplicas`). @default the manager's */
  waitReplicas?: number;
  /** How long WAIT waits. @default the manager's waitTimeout */
  waitTimeout?: Duration;
}

/** How many replicas must acknowledge, and for how long to wait: a call's options over the manager's. */
export function resolveReplication(
  options: { waitReplicas?: number; waitTimeout?: Duration },
  defaults: ResolvedLocksOptions,
): { replicas: number; timeoutMs: number } {
  return {
    replicas:
      options.waitReplicas === undefined
        ? defaults.waitReplicas
        : check.nonNegativeInt(options.waitReplicas, 'waitReplicas'),
    timeoutMs:
      options.waitTimeout === undefined
        ? defaults.waitTimeoutMs
        : check.positiveDuration(options.waitTimeout, 'waitTimeout'),
  };
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
  /** Replicas that must acknowledge (0: no WAIT), and how long WAIT waits. */
  readonly replication: { replicas: number; timeoutMs: number };
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
    replication: resolveReplication(o, defaults),
  };
}

/** Resolves the `using`-only options. */
export function resolveUsingOptions(options: UsingOptions): { extendAt: number; maxExtensions: number } {
  return {
    extendAt: check.fraction(options.extendAt ?? 0.5, 'extendAt', { zero: false, one: false }),
    maxExtensions: check.positiveInt(options.maxExtensions ?? 100, 'maxExtensions'),
  };
}
