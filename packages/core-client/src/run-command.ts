/**
 * `redis.run()`: one verb's commands through the breaker, within the verb's
 * time budget, with what they throw mapped to stratacache errors.
 *
 * The common case is a Redis hit with the breaker closed and nobody timing
 * commands: it costs a closed-client check, a budget lookup, a field read of
 * the breaker, and one `.then` to map a rejection; no `async` frame, no
 * `await`, no closure around `fn`. Everything else (an open or half-open
 * breaker, a listener on `stratacache:core:command`) takes the guarded path.
 */
import { type Admission, type CircuitBreaker, isAvailabilityFailure } from './breaker.js';
import { currentBudget, sendWithin, type TimeBudget } from './budget.js';
import { describeFailure, outcomeOf } from './connection-failure.js';
import type { ConnectionState } from './connection-state.js';
import { listeningTo, publishDiagnostic } from './diagnostics.js';
import { mapRedisError } from './error-mapping.js';
import { CircuitOpenError, ClientClosedError, type StratacacheError, TimeoutError } from './errors.js';
import type { RedisConnection } from './open-connection.js';

/** What the runner needs from its client. */
export interface RunnerContext {
  /** The client's connection name, in events. */
  name: string;
  password: string | undefined;
  state: ConnectionState;
  /** The breaker consulted per call (standalone and Sentinel); undefined on Cluster or when turned off. */
  breaker: CircuitBreaker | undefined;
  /** True once `close()` was called. */
  closed(): boolean;
}

/**
 * A verb's commands: `client` is the connection; `budget` is the call's time
 * budget, if any. Commands the callback sends before its first `await` are
 * bounded by the budget on their own; wrap later ones in `sendWithin(budget, ...)`.
 */
export type RunCallback<T> = (client: RedisConnection, budget: TimeBudget | undefined) => Promise<T>;

/** Runs verbs for one client. */
export class CommandRunner {
  /** Set once the client's main connection exists. */
  client!: RedisConnection;

  constructor(private readonly ctx: RunnerContext) {}

  /** See `StrataRedis.run()`. */
  run<T>(command: string, fn: RunCallback<T>, explicit?: TimeBudget): Promise<T> {
    // A closed client fails on its own terms, before the breaker: it says nothing about Redis.
    if (this.ctx.closed()) return Promise.reject(this.closedError(command));
    const ambient = currentBudget();
    const budget = explicit ? explicit.shorter(ambient) : ambient;
    // Spent by earlier commands of the same call: refused here, and not a breaker failure either.
    if (budget?.expired) return Promise.reject(this.budgetSpent(command, budget));
    const breaker = this.ctx.breaker;
    if ((breaker !== undefined && !breaker.closed) || listeningTo('command')) {
      return this.runGuarded(command, fn, budget, breaker);
    }
    let pending: Promise<T>;
    try {
      pending = budget ? sendWithin(budget, () => fn(this.client, budget)) : fn(this.client, undefined);
    } catch (error) {
      return Promise.reject(this.failed(error, command, budget, breaker, 'pass'));
    }
    return Promise.resolve(pending).then(undefined, (error: unknown) => {
      throw this.failed(error, command, budget, breaker, 'pass');
    });
  }

  /** `run()` while the breaker is not closed (admission, the half-open probe) or commands are timed. */
  private async runGuarded<T>(
    command: string,
    fn: RunCallback<T>,
    budget: TimeBudget | undefined,
    breaker: CircuitBreaker | undefined,
  ): Promise<T> {
    const admission = breaker ? breaker.admit() : 'pass';
    if (admission instanceof CircuitOpenError) throw admission;
    // Timed only while someone listens: no clock reads on the hot path otherwise.
    const started = listeningTo('command') ? performance.now() : -1;
    try {
      const result = await (budget ? sendWithin(budget, () => fn(this.client, budget)) : fn(this.client, undefined));
      if (started >= 0) this.timed(command, started, true);
      breaker?.settle(admission);
      return result;
    } catch (error) {
      if (started >= 0) this.timed(command, started, false);
      throw this.failed(error, command, budget, breaker, admission);
    }
  }

  /** Maps a failure of `run()` and counts it against the breaker. */
  private failed(
    error: unknown,
    command: string,
    budget: TimeBudget | undefined,
    breaker: CircuitBreaker | undefined,
    admission: Admission,
  ): StratacacheError {
    const mapped = this.mapError(error, command, budget);
    // While closed only failures count; a probe's outcome decides the half-open state.
    if (breaker !== undefined && (admission === 'probe' || isAvailabilityFailure(mapped))) {
      breaker.settle(admission, mapped);
    }
    return mapped;
  }

  private timed(command: string, started: number, ok: boolean): void {
    publishDiagnostic('command', { client: this.ctx.name, command, durationMs: performance.now() - started, ok });
  }

  /** Maps what a command threw to a stratacache error naming the address and the kind, and publishes it. */
  mapError(error: unknown, command: string, budget?: TimeBudget): StratacacheError {
    const mapped = mapRedisError(error, command, {
      password: this.ctx.password,
      facts: this.ctx.state.facts(),
      tracked: true,
      closed: this.ctx.closed(),
      budgetMs: budget?.totalMs,
    });
    publishDiagnostic('commandError', { client: this.ctx.name, command, code: mapped.code, message: mapped.message });
    return mapped;
  }

  /** The error of a command its call's budget could not cover. */
  budgetSpent(command: string, budget: TimeBudget): TimeoutError {
    const address = this.ctx.state.address;
    return new TimeoutError(
      `The time budget of ${budget.totalMs} ms ran out before ${command} could be sent to ${address}: earlier commands of the same call used it up. ${outcomeOf(command, false)}`,
      { context: { command, address, kind: 'budget', sent: false } },
    );
  }

  /** The error of a call on a closed client. */
  closedError(command: string): ClientClosedError {
    return new ClientClosedError(`${describeFailure('closed', this.ctx.state.facts())} ${outcomeOf(command, false)}`, {
      context: { command, address: this.ctx.state.address, kind: 'closed', sent: false },
    });
  }
}
