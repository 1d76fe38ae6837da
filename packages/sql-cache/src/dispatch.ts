/**
 * Routing of one SQL text by its analysis: a read through the cache, a write
 * that invalidates, transaction control, or straight to the database. A text
 * the parser cannot read is a write unless it plainly reads (then uncached,
 * or cached under the call's own `tables` or `tags`).
 */
import { ConfigError } from '@stratacache/core-client';
import type { Memo } from './analyses.js';
import { ALL_TABLES, type Statement } from './parse/analysis.js';
import { read } from './read-path.js';
import type { QueryOptions, QueryResult, SqlCache } from './sql-cache.js';
import type { Context } from './transaction.js';
import { control, several, write, writtenTables } from './write-path.js';

const READ_KEYWORDS = /^\s*\(*\s*(select|values|table|show|describe|desc|explain)\b/i;
const WRITE_WORDS =
  /\b(insert|update|delete|merge|truncate|replace|alter|drop|create|call|do|copy|grant|execute|upsert|load)\b/i;

/** Runs `sql` in `ctx` by what its analysis (`memo`) says it is. */
export function dispatch(
  owner: SqlCache,
  ctx: Context,
  sql: string,
  params: readonly unknown[],
  options: QueryOptions,
  memo: Memo,
): Promise<QueryResult> {
  const explicit = options.tables?.map((t) => owner.table(t));
  const call = options.driverCall;
  if (call !== undefined && owner.db.takesCalls !== true)
    throw new ConfigError('driverCall: this driver cannot take pg query configs (only pgDriver can)');
  if (!memo.analysis.ok) {
    owner.counters.parseFailed(memo.analysis.reason, owner.dialect);
    const looksWrite = !READ_KEYWORDS.test(sql) || WRITE_WORDS.test(sql);
    if (looksWrite) return write(owner, ctx, sql, params, explicit ?? [ALL_TABLES], call);
    if (explicit || options.tags) return read(owner, ctx, sql, params, options, memo, explicit ?? []);
    return owner.uncached(ctx, sql, params, 'unparseable', [], call);
  }
  const statements = memo.analysis.statements;
  if (statements.length === 1) {
    const s = statements[0] as Statement;
    switch (s.kind) {
      case 'read':
        return read(owner, ctx, sql, params, options, memo, explicit ?? readTables(owner, memo, s));
      case 'uncacheable':
        return owner.uncached(ctx, sql, params, s.reason, s.tables, call);
      case 'write':
        return write(owner, ctx, sql, params, explicit ?? writtenTables(owner, s), call);
      case 'transaction':
        return control(owner, ctx, sql, params, s.op, call);
      case 'other':
        return owner.execute(ctx, sql, params, call);
    }
  }
  return several(owner, ctx, sql, params, statements, explicit, call);
}

/** A single read statement's tables under the `schemas` option, mapped once per SQL text. */
function readTables(owner: SqlCache, memo: Memo, statement: Extract<Statement, { kind: 'read' }>): string[] {
  memo.tables ??= statement.tables.map((t) => owner.table(t));
  return memo.tables;
}
