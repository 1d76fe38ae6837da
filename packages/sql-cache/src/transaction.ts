/**
 * Transactions as sql-cache follows them. A transaction collects the tables
 * it writes; before its first write to a table it opens a horizon on it
 * (readers everywhere bypass the cache), after COMMIT the tables are
 * invalidated and the horizons closed, after ROLLBACK the horizons are closed
 * and nothing is invalidated.
 *
 * Reads inside a transaction are never written back to the cache: the
 * transaction's snapshot may be older than an invalidation (REPEATABLE READ),
 * or hold its own uncommitted writes. Reads of tables it wrote bypass the
 * cache entirely (read-your-writes).
 */
import type { SqlExecutor } from './driver.js';
import { ALL_TABLES } from './parse/analysis.js';

/** The state of one open transaction. */
export class TxState {
  /** Tables written so far (`'*'` in the set: every table). */
  readonly written = new Set<string>();
  /** Tables whose horizon this transaction opened. */
  readonly horizon = new Set<string>();

  constructor(readonly id: string) {}

  /** True when a read of `tables` must not use the cache: the transaction wrote one of them. */
  wrote(tables: readonly string[]): boolean {
    if (this.written.has(ALL_TABLES)) return true;
    for (const t of tables) if (this.written.has(t)) return true;
    return false;
  }
}

/**
 * Where statements run: an executor (the pool, a connection, the driver's
 * transaction) and, when it is inside a transaction, that transaction's state.
 * A session on a held connection (or a pinned driver) follows SQL-text
 * `BEGIN` / `COMMIT` / `ROLLBACK` and sets `tx` itself.
 */
export interface Context {
  readonly executor: SqlExecutor;
  tx: TxState | undefined;
  /** True when SQL-text transaction control on this executor is followed (a held connection). */
  readonly tracksText: boolean;
}
