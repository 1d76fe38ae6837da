/**
 * The seed service's verbs, kept by name for applications moving from it:
 * `getDataFromTable(table, columns, where, fetcher, ttl)` and
 * `updateDataInTable(table, writer)`. Both sit on the same tags, horizons
 * and invalidation as `query`.
 */
import { ConfigError, type Duration, toMs } from '@stratacache/core-client';
import { entryKey, lookupHash } from './key.js';
import { ALL_TABLES } from './parse/analysis.js';
import type { SqlCache } from './sql-cache.js';
import { ALL_TAG, tableTag } from './tags.js';

/** A `where` object: column → value; `null` matches NULL, an array matches any of its values. */
export type Where = Record<string, unknown>;

/** Loads the rows of a `getDataFromTable` call on a miss. */
export type Fetcher<Row> = (request: {
  table: string;
  columns: readonly string[];
  where: Where;
}) => Promise<Row[]> | Row[];

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

function quote(name: string, dialect: string): string {
  if (!IDENT.test(name))
    throw new ConfigError(
      `getDataFromTable: ${JSON.stringify(name)} is not a plain identifier (letters, digits, _ and one optional schema dot)`,
    );
  const q = dialect === 'mysql' ? '`' : '"';
  return name
    .split('.')
    .map((part) => `${q}${part}${q}`)
    .join('.');
}

/** The parameterized SELECT `getDataFromTable` runs when no fetcher is given. */
export function buildSelect(
  dialect: string,
  table: string,
  columns: readonly string[],
  where: Where,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const placeholder = () => (dialect === 'mysql' ? '?' : `$${params.length}`);
  const conditions: string[] = [];
  for (const column of Object.keys(where).sort()) {
    const value = where[column];
    const col = quote(column, dialect);
    if (value === null) conditions.push(`${col} IS NULL`);
    else if (Array.isArray(value)) {
      if (value.length === 0) conditions.push('FALSE');
      else
        conditions.push(
          `${col} IN (${value
            .map((v) => {
              params.push(v);
              return placeholder();
            })
            .join(', ')})`,
        );
    } else {
      params.push(value);
      conditions.push(`${col} = ${placeholder()}`);
    }
  }
  const cols = columns.length === 0 ? '*' : columns.map((c) => quote(c, dialect)).join(', ');
  const clause = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  return { sql: `SELECT ${cols} FROM ${quote(table, dialect)}${clause}`, params };
}

/** `getDataFromTable`: rows of `table` matching `where`, cached under the table's tag. */
export async function getDataFromTable<Row>(
  sql: SqlCache,
  table: string,
  columns: readonly string[],
  where: Where,
  fetcher: Fetcher<Row> | null | undefined,
  ttl: Duration | undefined,
): Promise<Row[]> {
  if (typeof table !== 'string' || table === '') throw new ConfigError('getDataFromTable: table must be a name');
  if (!Array.isArray(columns)) throw new ConfigError('getDataFromTable: columns must be an array (empty for *)');
  const request = { table, columns: [...columns], where: where ?? {} };
  const load = async (): Promise<Row[]> => {
    if (fetcher) return fetcher(request);
    const { sql: text, params } = buildSelect(sql.dialect, table, columns, request.where);
    return (await sql.db.query(text, params)).rows as Row[];
  };
  const id = sql.table(table);
  const ttlMs = ttl === undefined ? (sql.options.tableTtlMs.get(id) ?? sql.options.defaultTtlMs) : toMs(ttl, 'ttl');
  const key = entryKey(id, lookupHash(id, columns, request.where));
  // Guarded like a query of the table: its horizon, and the every-table one of unreadable writes.
  const { value } = await sql.reads.cached([id], key, [tableTag(id), ALL_TAG], ttlMs, load, false, [id, ALL_TABLES]);
  return value;
}
