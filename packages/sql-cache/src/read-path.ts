/**
 * The read path of `query`: views expanded, a transaction's own tables read
 * from the database, everything else through the shared cached read
 * (`SqlCache.cached`) under the key of dialect, normalized text and typed
 * parameters, tagged with every table read.
 */
import { ConfigError, toMs } from '@stratacache/core-client';
import type { Memo, ReadPlan } from './analyses.js';
import { callSuffix } from './driver.js';
import { entryKey, queryHash, shapeHash } from './key.js';
import { ALL_TABLES } from './parse/analysis.js';
import { fromDb } from './query-types.js';
import type { QueryOptions, QueryResult, SqlCache } from './sql-cache.js';
import { ALL_TAG, tableTag } from './tags.js';
import type { Context } from './transaction.js';

/**
 * Runs a cacheable read of `named` tables in `ctx`. Not `async`: a hit hands
 * the cached read's promise on with one `.then` (each async frame costs a
 * promise and a resume per read). Its callers turn a synchronous throw (a bad
 * option or parameter) into a rejection (`SqlCache.run`).
 */
export function read(
  owner: SqlCache,
  ctx: Context,
  sql: string,
  params: readonly unknown[],
  options: QueryOptions,
  memo: Pick<Memo, 'normalized' | 'shape' | 'tables' | 'plan'>,
  named: readonly string[],
): Promise<QueryResult> {
  if (!owner.views.ready) {
    return owner.views.load(owner.db).then(() => read(owner, ctx, sql, params, options, memo, named));
  }
  const plan = planOf(owner, memo, named, options);
  const tables = plan.tables;
  const call = options.driverCall;
  if (options.cache === false) return owner.uncached(ctx, sql, params, 'cache-false', tables, call);
  if (tables.length === 0 && !options.tags?.length) return owner.uncached(ctx, sql, params, 'no-tables', tables, call);
  const tx = ctx.tx;
  if (tx?.wrote(tables)) {
    // Read your own writes: the transaction's uncommitted rows, straight from its connection.
    return ctx.executor.query(sql, params, call).then((result) => {
      owner.counters.lookup(tables, 'bypass');
      return fromDb(result);
    });
  }
  memo.shape ??= shapeHash(owner.dialect, memo.normalized);
  let key: string;
  if (params.length > 0) key = entryKey(tables[0], queryHash(owner.dialect, memo.normalized, params, memo.shape));
  else {
    // Without parameters the key is the shape's: kept with the plan, so a repeated read builds no string.
    key = plan.key ?? entryKey(tables[0], memo.shape);
    if (plan === memo.plan) plan.key = key;
  }
  // Rows read another way (arrays, other type parsers) are other values: never under the plain key.
  if (call !== undefined) key = `${key}~${callSuffix(call)}`;
  const ttlMs =
    options.ttl === undefined && options.category === undefined ? plan.ttlMs : ttlOf(owner, options, tables);
  return owner.reads
    .cached(
      tables,
      key,
      plan.tags,
      ttlMs,
      async () => {
        const result = await ctx.executor.query(sql, params, call);
        return { rows: result.rows, rowCount: result.rowCount };
      },
      tx !== undefined,
      plan.guarded,
    )
    .then(({ value, source }) => ({ rows: value.rows, rowCount: value.rowCount, source }));
}

/**
 * The read plan of `named` tables: the one kept with the SQL text's parse
 * when the read names its own tables (`named` is the parse's list) with no
 * call `tags` and the views are as they were, else a new one (kept for the
 * next read when it is the parse's).
 */
function planOf(
  owner: SqlCache,
  memo: Pick<Memo, 'tables' | 'plan'>,
  named: readonly string[],
  options: QueryOptions,
): ReadPlan {
  const views = owner.views.generation;
  const reusable = named === memo.tables && !options.tags?.length;
  if (reusable && memo.plan?.views === views) return memo.plan;
  const tables = owner.views.expand(named);
  const plan: ReadPlan = {
    views,
    tables,
    tags: [...tables.map(tableTag), ALL_TAG, ...(options.tags ?? [])],
    guarded: [...tables, ALL_TABLES],
    ttlMs: ttlOfTables(owner, tables),
  };
  if (reusable) memo.plan = plan;
  return plan;
}

/** The TTL of a read: the call's `ttl`, its `category`, the shortest of its tables' settings, the default. */
export function ttlOf(owner: SqlCache, options: QueryOptions, tables: readonly string[]): number {
  if (options.ttl !== undefined) return toMs(options.ttl, 'ttl');
  if (options.category !== undefined) {
    const ttl = owner.options.categories[options.category];
    if (ttl === undefined)
      throw new ConfigError(
        `category: unknown category ${JSON.stringify(options.category)}; known: ${Object.keys(owner.options.categories).join(', ')}`,
      );
    return ttl;
  }
  return ttlOfTables(owner, tables);
}

/** The shortest TTL of `tables`' own settings, else the default. */
function ttlOfTables(owner: SqlCache, tables: readonly string[]): number {
  let ttl: number | undefined;
  for (const t of tables) {
    const own = owner.options.tableTtlMs.get(t);
    if (own !== undefined && (ttl === undefined || own < ttl)) ttl = own;
  }
  return ttl ?? owner.options.defaultTtlMs;
}
