/**
 * One time budget per call. A call that sends several commands in a row (a
 * read, then a write) would otherwise wait up to `commandTimeout` for each,
 * so with Redis down it answers after twice the documented timeout, or more.
 * Under a budget every command's timeout is the time the budget has left, and
 * a command the budget cannot cover is not sent at all.
 *
 * How a command finds its budget: `redis.run()` makes the budget current for
 * the synchronous part of its callback (`sendWithin`), which is when ioredis
 * hands commands to the connection, and passes it to the callback as its
 * second argument for anything sent after an `await`. No `AsyncLocalStorage`
 * is involved: on Node 20 the first `AsyncLocalStorage.run()` in a process
 * installs promise hooks that make every promise of the process about 2.5
 * times slower (measured in bench/core-client/als-cost.mjs), so a layer must
 * never enter one on a verb. Only the public `redis.withBudget()` does, lazily,
 * for applications that want a budget to follow their own awaits; its JSDoc
 * says what that costs.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** A deadline shared by every command of one call. */
export class TimeBudget {
  /** The whole budget, in ms. */
  readonly totalMs: number;
  private readonly deadline: number;

  constructor(ms: number) {
    this.totalMs = ms;
    this.deadline = performance.now() + ms;
  }

  /** Milliseconds left (0 once spent). */
  remainingMs(): number {
    return Math.max(0, this.deadline - performance.now());
  }

  /** True once the budget is spent. */
  get expired(): boolean {
    return this.remainingMs() <= 0;
  }

  /** The shorter of this budget and `other`: a nested budget never extends the outer one. */
  shorter(other: TimeBudget | undefined): TimeBudget {
    return other && other.remainingMs() < this.remainingMs() ? other : this;
  }
}

/** The budget of the synchronous scope running now (`sendWithin`), if any. */
let scoped: TimeBudget | undefined;
/** Created by the first `redis.withBudget()` only; never by a layer's verb. */
let storage: AsyncLocalStorage<TimeBudget> | undefined;

/** The budget of the call running now, if any: the synchronous scope's, else an enclosing `withBudget`'s. */
export function currentBudget(): TimeBudget | undefined {
  return scoped ?? storage?.getStore();
}

/**
 * Runs `send` with `budget` current until it returns: commands it hands to
 * ioredis synchronously are bounded by the budget (the command guard reads it
 * in `sendCommand`). Costs two assignments; no async context is created, so
 * commands sent after an `await` inside `send` must be wrapped again.
 */
export function sendWithin<T>(budget: TimeBudget | undefined, send: () => T): T {
  if (budget === undefined) return send();
  const outer = scoped;
  scoped = budget;
  try {
    return send();
  } finally {
    scoped = outer;
  }
}

/**
 * Runs `fn` under `budget` (or the current budget, when that is shorter) across
 * its awaits, through an `AsyncLocalStorage` created on first use. Only the
 * public `redis.withBudget()` calls this (see the module comment for the cost).
 */
export function withinBudgetAcrossAwaits<T>(budget: TimeBudget, fn: () => T): T {
  storage ??= new AsyncLocalStorage<TimeBudget>();
  return storage.run(budget.shorter(currentBudget()), fn);
}
