/**
 * One time budget per call. A call that sends several commands in a row (a
 * read, then a write) would otherwise wait up to `commandTimeout` for each,
 * so with Redis down it answers after twice the documented timeout, or more.
 * Under a budget every command's timeout is the time the budget has left, and
 * a command the budget cannot cover is not sent at all.
 *
 * The budget travels with the call through `AsyncLocalStorage`, so commands
 * issued anywhere inside it (a helper, a pipeline, a script) are bounded by it
 * without passing it along.
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

const storage = new AsyncLocalStorage<TimeBudget>();

/** The budget of the call running now, if any. */
export function currentBudget(): TimeBudget | undefined {
  return storage.getStore();
}

/** Runs `fn` under `budget` (or the current budget, when that is shorter). */
export function withinBudget<T>(budget: TimeBudget, fn: () => T): T {
  return storage.run(budget.shorter(storage.getStore()), fn);
}
