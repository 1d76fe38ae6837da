/**
 * A circuit breaker for Redis: after `failureThreshold` connection or timeout
 * failures within `windowMs` it opens, and calls fail at once with
 * `CircuitOpenError` instead of waiting for timeouts; after `openDurationMs`
 * it half-opens and lets one probe through: success closes it, failure opens
 * it again. Upper layers read `state` to skip Redis (serve L1, or stale).
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
  /** Clock, for tests. @default performance.now */
  now?: () => number;
}

/** True for failures that say Redis is unreachable or unresponsive (not a wrong type, not a script error). */
export function isAvailabilityFailure(error: unknown): boolean {
  return StratacacheError.isInstance(error) && (error.code === 'E_CONNECTION' || error.code === 'E_TIMEOUT');
}

/** The breaker. Events: `'state'` with a {@link BreakerStateChange}. */
export class CircuitBreaker extends EventEmitter {
  private current: BreakerState = 'closed';
  private failures: number[] = [];
  private openedAt = 0;
  private probing = false;
  private readonly now: () => number;

  constructor(private readonly settings: CircuitBreakerSettings) {
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

  /**
   * Runs `fn` unless the breaker is open (then throws `CircuitOpenError` at
   * once). In half-open, only one call probes at a time; the others are refused.
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.probing)) {
      throw new CircuitOpenError(
        `Redis circuit breaker is ${state}: Redis failed ${this.settings.failureThreshold} times within ${this.settings.windowMs} ms; calls are skipped for ${this.settings.openDurationMs} ms. Serve from memory or the source meanwhile.`,
        { context: { state, client: this.settings.name } },
      );
    }
    const probe = state === 'half-open';
    if (probe) this.probing = true;
    try {
      const result = await fn();
      this.recordSuccess();
      return result;
    } catch (error) {
      if (isAvailabilityFailure(error)) this.recordFailure();
      // A closed client says nothing about Redis: neither a failure nor a success.
      else if (!(StratacacheError.isInstance(error) && error.code === 'E_CLOSED')) this.recordSuccess(); // Redis answered
      throw error;
    } finally {
      if (probe) this.probing = false;
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

  /** Back to closed, forgetting failures. */
  reset(): void {
    this.failures = [];
    if (this.current !== 'closed') this.transition('closed');
  }

  private open(now: number): void {
    this.openedAt = now;
    this.transition('open');
  }

  private transition(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    const change: BreakerStateChange = { from, to, failures: this.failures.length };
    publishDiagnostic('breaker', { client: this.settings.name, ...change });
    this.emit('state', change);
  }
}
