/**
 * The read path of `query`: views expanded, a transaction's own tables read
 * from the database, everything else through the shared cached read
 * (`SqlCache.cached`) under the key of dialect, normalized text and typed
 * parameters, tagged with every table read.
 */
import { ConfigError, toMs } from '@stratacache/core-client';
import type { Memo } from './analyses.js';
import { entryKey, queryHash, shapeHash } from './key.js';
import type { QueryOptions, QueryResult, SqlCache } from './sql-cache.js';
import { ALL_TAG, tableTag } from './tags.js';
import type { Context } from './transaction.js';

/** Runs a cacheable read of `named` tables in `ctx`. */
export async function read(
  owner: SqlCache,
  ctx: Context,
  sql: string,
  params: readonly unknown[],
  options: QueryOptions,
  memo: Pick<Memo, 'normalized' | 'shape'>,
  named: readonly string[],
): Promise<QueryResult> {
  if (!owner.views.ready) await owner.views.load(owner.db);
  const tables = owner.views.expand(named);
  if (options.cache === false) return owner.uncached(ctx, sql, params, 'cache-false', tables);
  if (tables.length === 0 && !options.tags?.length) return owner.uncached(ctx, sql, params, 'no-tables', tables);
  const tx = ctx.tx;
  if (tx?.wrote(tables)) {
    // Read your own writes: the transaction's uncommitted rows, straight from its connection.
    const result = await ctx.executor.query(sql, params);
    owner.counters.lookup(tables, 'bypass');
    return { rows: result.rows, rowCount: result.rowCount, source: 'db' };
  }
  memo.shape ??= shapeHash(owner.dialect, memo.normalized);
  const key = entryKey(tables[0], queryHash(owner.dialect, memo.normalized, params, memo.shape));
  const tags = [...tables.map(tableTag), ALL_TAG, ...(options.tags ?? [])];
  const { value, source } = await owner.cached(
    tables,
    key,
    tags,
    ttlOf(owner, options, tables),
    async () => {
      const result = await ctx.executor.query(sql, params);
      return { rows: result.rows, rowCount: result.rowCount };
    },
    tx !== undefined,
  );
  return { rows: value.rows, rowCount: value.rowCount, source };
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
  let ttl: number | undefined;
  for (const t of tables) {
    const own = owner.options.tableTtlMs.get(t);
    if (own !== undefined && (ttl === undefined || own < ttl)) ttl = own;
  }
  return ttl ?? owner.options.defaultTtlMs;
}
