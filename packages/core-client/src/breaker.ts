/**
 * A circuit breaker for Redis: after `failureThreshold` connection or timeout
 * failures within `windowMs` it opens, and calls fail at once with
 * `CircuitOpenError` instead of waiting for timeouts; after `openDurationMs`
 * it half-opens and lets one probe through: success closes it, failure opens
 * it again. A connection that becomes ready again closes it at once
 * (`reset()`, called by the client), without waiting for the probe.
 * Upper layers read `state` to skip Redis (serve L1, or stale).
 *
 * Calls are admitted synchronously (`admit()`, then `settle()` with the
 * outcome), so a closed breaker costs a field read per call: no promise, no
 * closure. `run()` wraps both for callers that prefer one call.
 */
import { EventEmitter } from 'node:events';
import { publishDiagnostic } from './diagnostics.js';
import { CircuitOpenError, StratacacheError } from './errors.js';

/** Breaker states. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** A state change, as emitted on `'state'` and published on `stratacache:core:breaker`. */
export interface BreakerStateChange {
  from: BreakerState;
  to: BreakerState;
  failures: number;
}

/** Settings of {@link CircuitBreaker}, in milliseconds. */
export interface CircuitBreakerSettings {
  failureThreshold: number;
  windowMs: number;
  openDurationMs: number;
  /** Name in events. */
  name?: string;
  /**
   * The Cluster node (`host:port`) this breaker guards: its changes go to
   * `stratacache:core:node-breaker` with the node, instead of `stratacache:core:breaker`.
   */
  node?: string;
  /** Clock, for tests. @default performance.now */
  now?: () => number;
}

/** What `admit()` let through: a call while closed, or the one probe while half-open. */
export type Admission = 'pass' | 'probe';

/** True for failures that say Redis is unreachable or unresponsive (not a wrong type, not a script error). */
export function isAvailabilityFailure(error: unknown): boolean {
  return StratacacheError.isInstance(error) && (error.code === 'E_CONNECTION' || error.code === 'E_TIMEOUT');
}

/** The breaker. Events: `'state'` with a {@link BreakerStateChange}. */
export class CircuitBreaker extends EventEmitter {
  /** The state as last set (an open breaker past its duration still reads `open` here; see `state`). */
  protected current: BreakerState = 'closed';
  private failures: number[] = [];
  private openedAt = 0;
  private probing = false;
  private readonly now: () => number;

  constructor(protected readonly settings: CircuitBreakerSettings) {
    super();
    this.now = settings.now ?? (() => performance.now());
  }

  /** The state now (an open breaker whose duration passed reads as half-open). */
  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.settings.openDurationMs) {
      this.transition('half-open');
    }
    return this.current;
  }

  /** True while calls should skip Redis. */
  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** True while closed: the one check of the fast path. */
  get closed(): boolean {
    return this.current === 'closed';
  }

  /**
   * Admits a call, synchronously: `'pass'` while closed, `'probe'` for the
   * one call let through while half-open, or the `CircuitOpenError` to fail
   * the call with. Every admitted call must be settled.
   */
  admit(): Admission | CircuitOpenError {
    if (this.current === 'closed') return 'pass';
    const state = this.state;
    if (state === 'half-open' && !this.probing) {
      this.probing = true;
      return 'probe';
    }
    return new CircuitOpenError(
      `Redis${this.settings.node ? ` node ${this.settings.node}` : ''} circuit breaker is ${state}: Redis failed ${this.settings.failureThreshold} times within ${this.settings.windowMs} ms; calls are skipped for ${this.settings.openDurationMs} ms or until the connection is back. Serve from memory or the source meanwhile.`,
      { context: { state, client: this.settings.name, node: this.settings.node } },
    );
  }

  /**
   * Settles an admitted call: no error, or an error Redis answered with,
   * counts as a success; an availability failure as a failure; a closed
   * client as neither (it says nothing about Redis).
   */
  settle(admission: Admission, error?: unknown): void {
    if (admission === 'probe') this.probing = false;
    if (error === undefined) {
      if (this.current === 'half-open') this.recordSuccess();
    } else if (isAvailabilityFailure(error)) this.recordFailure();
    else if (!(StratacacheError.isInstance(error) && error.code === 'E_CLOSED')) this.recordSuccess(); // Redis answered
  }

  /**
   * Runs `fn` unless the breaker is open (then throws `CircuitOpenError` at
   * once). In half-open, only one call probes at a time; the others are refused.
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const admission = this.admit();
    if (admission instanceof CircuitOpenError) throw admission;
    try {
      const result = await fn();
      this.settle(admission);
      return result;
    } catch (error) {
      this.settle(admission, error);
      throw error;
    }
  }

  /** Records a success: closes a half-open breaker. */
  recordSuccess(): void {
    if (this.current === 'half-open') {
      this.failures = [];
      this.transition('closed');
    }
  }

  /** Records an availability failure: may open the breaker. */
  recordFailure(): void {
    const now = this.now();
    if (this.current === 'half-open') {
      this.open(now);
      return;
    }
    if (this.current === 'open') return;
    this.failures.push(now);
    const since = now - this.settings.windowMs;
    while (this.failures.length > 0 && (this.failures[0] as number) < since) this.failures.shift();
    if (this.failures.length >= this.settings.failureThreshold) this.open(now);
  }

  /**
   * Back to closed, forgetting failures: the client calls it when a
   * connection becomes ready again, the surest sign Redis is back.
   */
  reset(): void {
    this.failures = [];
    this.probing = false;
    if (this.current !== 'closed') this.transition('closed');
  }

  private open(now: number): void {
    this.openedAt = now;
    this.transition('open');
  }

  /** Moves to `to`, publishes the change and emits `'state'`. */
  protected transition(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    const change: BreakerStateChange = { from, to, failures: this.failures.length };
    if (this.settings.node === undefined) publishDiagnostic('breaker', { client: this.settings.name, ...change });
    else publishDiagnostic('nodeBreaker', { client: this.settings.name, node: this.settings.node, ...change });
    this.emit('state', change);
  }
}
