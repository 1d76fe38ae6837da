/**
 * Writes and transaction control: a write opens a horizon on the tables it
 * is about to write, runs, and (outside a transaction) invalidates them once
 * it has resolved; inside one, the tables wait for COMMIT. SQL-text BEGIN,
 * COMMIT and ROLLBACK move a followed connection's transaction state.
 */
import type { DriverCall } from './driver.js';
import { TransactionStateError } from './errors.js';
import { ALL_TABLES, type Statement } from './parse/analysis.js';
import type { QueryResult, SqlCache } from './sql-cache.js';
import type { Context } from './transaction.js';

/** The tables a write statement changes, views expanded (`['*']` when it cannot be known). */
export function writtenTables(owner: SqlCache, s: Statement & { kind: 'write' }): string[] {
  if (s.ddl) owner.views.refresh();
  if (s.tables === ALL_TABLES) return [ALL_TABLES];
  return owner.views.expand(s.tables.map((t) => owner.table(t)));
}

/** Runs a write of `tables` in `ctx`. */
export async function write(
  owner: SqlCache,
  ctx: Context,
  sql: string,
  params: readonly unknown[],
  tables: readonly string[],
  call?: DriverCall,
): Promise<QueryResult> {
  if (ctx.tx) {
    await owner.openHorizon(ctx.tx, tables);
    return owner.execute(ctx, sql, params, call);
  }
  // Autocommit: the statement commits as it resolves; invalidate after it, never concurrently.
  const tx = owner.newTx();
  await owner.openHorizon(tx, tables);
  try {
    return await owner.execute(ctx, sql, params, call);
  } finally {
    // Also after a failure: a lost connection leaves the outcome unknown, and a needless invalidation is cheap.
    await owner.committed(tx);
  }
}

/** Runs transaction control (`op`) in `ctx` and moves its transaction state. */
export async function control(
  owner: SqlCache,
  ctx: Context,
  sql: string,
  params: readonly unknown[],
  op: string,
  call?: DriverCall,
): Promise<QueryResult> {
  if (!ctx.tracksText) {
    // BEGIN on a pool runs on whichever connection answers: the statements after it may not share it.
    throw new TransactionStateError(
      `'${op}' through a pool cannot hold a transaction: use sql.transaction(fn), or sql.connect() for a connection of your own`,
    );
  }
  const tx = ctx.tx;
  if (op === 'begin') {
    const result = await owner.execute(ctx, sql, params, call);
    ctx.tx ??= owner.newTx();
    return result;
  }
  if (op === 'commit' || op === 'prepare') {
    ctx.tx = undefined;
    try {
      return await owner.execute(ctx, sql, params, call);
    } finally {
      // A failed COMMIT may still have committed (the connection dropped): invalidate anyway.
      if (tx) await owner.committed(tx);
    }
  }
  if (op === 'rollback') {
    ctx.tx = undefined;
    try {
      return await owner.execute(ctx, sql, params, call);
    } finally {
      if (tx) await owner.rolledBack(tx);
    }
  }
  // SAVEPOINT, RELEASE, ROLLBACK TO: the tables written so far stay written (safe).
  return owner.execute(ctx, sql, params, call);
}

/** Several statements in one text: run once; their writes and transaction control applied in order. */
export async function several(
  owner: SqlCache,
  ctx: Context,
  sql: string,
  params: readonly unknown[],
  statements: readonly Statement[],
  explicit: string[] | undefined,
  call?: DriverCall,
): Promise<QueryResult> {
  const writes = statements.filter((s): s is Statement & { kind: 'write' } => s.kind === 'write');
  const controls = statements.filter((s) => s.kind === 'transaction');
  if (writes.length === 0 && controls.length === 0)
    return owner.uncached(ctx, sql, params, 'several-statements', [], call);
  const written = explicit ?? writes.flatMap((s) => writtenTables(owner, s));
  // e.g. 'BEGIN; UPDATE ...; COMMIT' through a pool: the text runs whole on one connection.
  if (controls.length > 0 && !ctx.tracksText)
    return write(owner, { ...ctx, tx: undefined }, sql, params, written, call);
  if (controls.length === 0) return write(owner, ctx, sql, params, written, call);
  // Follow the transaction state through the text; what it wrote is invalidated once it is closed.
  const tx = ctx.tx ?? owner.newTx();
  await owner.openHorizon(tx, written);
  let open = ctx.tx !== undefined;
  for (const s of statements) {
    if (s.kind !== 'transaction') continue;
    if (s.op === 'begin') open = true;
    else if (s.op === 'commit' || s.op === 'rollback' || s.op === 'prepare') open = false;
  }
  try {
    return await owner.execute(ctx, sql, params, call);
  } finally {
    if (open) ctx.tx = tx;
    else {
      ctx.tx = undefined;
      await owner.committed(tx);
    }
  }
}
