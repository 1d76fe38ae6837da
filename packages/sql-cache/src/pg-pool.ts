/**
 * `cachedPgPool(sql)`: a pg `Pool` look-alike whose statements go through a
 * SqlCache, for libraries that take a pg Pool and send it their SQL:
 * Drizzle (`drizzle-orm/node-postgres`) and Kysely (`PostgresDialect`).
 *
 * Why a pool and not the ORMs' own cache hooks: Drizzle's `Cache.onMutate`
 * runs concurrently with the write and hears nothing of COMMIT, so a cache
 * behind it can keep pre-commit rows (drizzle-orm #5828). Through this pool
 * sql-cache sees every statement, `BEGIN` and `COMMIT` included, on the
 * connection they run on, and keeps its guarantees: written tables are
 * invalidated after COMMIT (nothing after ROLLBACK), and readers bypass the
 * cache while a writer's transaction is open.
 *
 * Reads are cached under the SqlCache's rules (every read whose tables the
 * parser finds; table TTLs and categories from its options). A query config's
 * `rowMode: 'array'` and `types` (Drizzle sends both) reach pg as they are,
 * and such results are cached apart from plain ones.
 */
import { ConfigError, check } from '@stratacache/core-client';
import type { DriverCall } from './driver.js';
import type { PgQueryConfigLike } from './pg.js';
import type { SqlSession } from './session.js';
import type { QueryOptions, QueryResult, SqlCache } from './sql-cache.js';

/** Options of {@link cachedPgPool}. */
export interface CachedPgPoolOptions {
  /**
   * The name under which results read with a query config's own `types`
   * (type parsers) are cached, apart from results read with pg's defaults.
   * Two pools whose callers pass different parsers for the same SQL need
   * different names. 1-64 letters, digits, `_` or `-`. @default 'custom'
   */
  parsers?: string;
}

/** What a query through the pool resolves: pg's result shape, plus where it came from. */
export interface CachedPgResult<Row = unknown> {
  rows: Row[];
  rowCount: number;
  /** pg's command tag; `'SELECT'` for a read served from the cache. */
  command: string;
  /** Column descriptions are not kept with cached results: always empty. */
  fields: never[];
  /** `'cache'` or `'db'`. */
  source: 'cache' | 'db';
}

/** A query as pg takes it: a text, or a config with `text`, `values`, `rowMode` and `types`. */
export type PgQueryInput = string | (PgQueryConfigLike & { name?: string });

const KNOWN_OPTIONS = new Set(['parsers']);

/** Checks one `query()` call and turns it into sql-cache's text, parameters and per-call options. */
function prepare(
  input: PgQueryInput,
  values: unknown,
  extra: unknown,
  parsers: string,
): { text: string; params: unknown[]; options: QueryOptions } {
  if (typeof values === 'function' || typeof extra === 'function')
    throw new TypeError('cachedPgPool: callbacks are not supported; use the returned promise');
  const config: Partial<PgQueryConfigLike> & { name?: string; submit?: unknown } =
    typeof input === 'string' ? { text: input } : (input ?? {});
  if (typeof config !== 'object') throw new TypeError('cachedPgPool: query takes a SQL string or a query config');
  if (typeof config.submit === 'function')
    throw new TypeError(
      'cachedPgPool: submittables (pg-cursor, pg-query-stream) are not supported: they bypass the cache',
    );
  const text = config.text;
  if (typeof text !== 'string' || text.trim() === '')
    throw new TypeError('cachedPgPool: the query text must be a non-empty string');
  const given = values === undefined ? config.values : values;
  if (given !== undefined && !Array.isArray(given)) throw new TypeError('cachedPgPool: values must be an array');
  if (config.rowMode !== undefined && config.rowMode !== 'array')
    throw new TypeError(`cachedPgPool: rowMode must be 'array' or left out; got ${JSON.stringify(config.rowMode)}`);
  const options: QueryOptions = {};
  if (config.rowMode !== undefined || config.types !== undefined) {
    const call: DriverCall = {};
    if (config.rowMode === 'array') call.rowMode = 'array';
    if (config.types !== undefined) {
      call.types = config.types;
      call.typesName = parsers;
    }
    options.driverCall = call;
  }
  return { text, params: (given ?? []) as unknown[], options };
}

/** pg's result shape of a sql-cache result. */
function asPg<Row>(result: QueryResult): CachedPgResult<Row> {
  return {
    rows: result.rows as Row[],
    rowCount: result.rowCount,
    command: result.command ?? 'SELECT',
    fields: [],
    source: result.source,
  };
}

/** A client of {@link CachedPgPool}: one held connection (`sql.connect()`), SQL-text transactions followed. */
export class CachedPgPoolClient {
  private released = false;

  /** @internal */
  constructor(
    private readonly session: SqlSession,
    private readonly parsers: string,
  ) {}

  /** Runs a statement on this connection through sql-cache; `BEGIN`, `COMMIT` and `ROLLBACK` are followed. */
  async query<Row = unknown>(input: PgQueryInput, values?: unknown, callback?: unknown): Promise<CachedPgResult<Row>> {
    if (this.released) throw new TypeError('cachedPgPool: this client was released');
    const { text, params, options } = prepare(input, values, callback, this.parsers);
    return asPg<Row>(await this.session.query(text, params, options));
  }

  /**
   * Returns the connection to the pool; `destroy` (true or an error) closes it
   * instead, as pg's `release` does. A transaction left open is treated as
   * sql-cache's `SqlSession.release` says: its tables are invalidated now.
   */
  release(destroy?: boolean | Error): void {
    if (this.released) return;
    this.released = true;
    // pg's release is synchronous; an invalidation that fails is already counted by sql-cache.
    this.session.release(destroy).catch(() => {});
  }
}

/**
 * A pg `Pool` look-alike over a SqlCache: `query()` on any connection,
 * `connect()` for one of its own. Its name ends in `Pool` on purpose: Drizzle
 * recognizes a pool by its constructor's name and then runs each transaction
 * on a client of its own.
 */
export class CachedPgPool {
  private ended = false;

  /** @internal */
  constructor(
    private readonly sql: SqlCache,
    private readonly parsers: string,
  ) {}

  /** Runs a statement through sql-cache (a read from the cache or the pool, a write that invalidates). */
  async query<Row = unknown>(input: PgQueryInput, values?: unknown, callback?: unknown): Promise<CachedPgResult<Row>> {
    this.assertOpen();
    const { text, params, options } = prepare(input, values, callback, this.parsers);
    return asPg<Row>(await this.sql.query(text, params, options));
  }

  /** A client holding one pooled connection, on which SQL-text transactions are followed. Release it when done. */
  async connect(): Promise<CachedPgPoolClient> {
    this.assertOpen();
    return new CachedPgPoolClient(await this.sql.connect(), this.parsers);
  }

  /**
   * Ends this look-alike only: later calls are refused. The pg Pool under the
   * SqlCache is the application's, and so is ending it (Kysely's `destroy()`
   * calls this).
   */
  async end(): Promise<void> {
    this.ended = true;
  }

  private assertOpen(): void {
    if (this.ended) throw new TypeError('cachedPgPool: this pool was ended');
  }
}

/**
 * A pg `Pool` look-alike whose statements go through `sql` (which must be
 * built on `pgDriver`), for Drizzle and Kysely.
 *
 * @example
 * ```ts
 * import { drizzle } from 'drizzle-orm/node-postgres';
 * import { Kysely, PostgresDialect } from 'kysely';
 * const pool = cachedPgPool(sql);
 * const db = drizzle({ client: pool });
 * const kdb = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
 * ```
 */
export function cachedPgPool(sql: SqlCache, options: CachedPgPoolOptions = {}): CachedPgPool {
  if (typeof options !== 'object' || options === null) throw new ConfigError('cachedPgPool: options must be an object');
  for (const key of Object.keys(options))
    if (!KNOWN_OPTIONS.has(key))
      throw new ConfigError(`cachedPgPool: unknown option ${JSON.stringify(key)}; known: parsers`, {
        context: { option: key },
      });
  const parsers = check.namespace(options.parsers ?? 'custom', 'parsers');
  if (typeof (sql as { connect?: unknown })?.connect !== 'function' || !sql.db)
    throw new ConfigError('cachedPgPool: the first argument must be a SqlCache (createSqlCache)', {
      context: { option: 'sql' },
    });
  if (sql.db.takesCalls !== true)
    throw new ConfigError(
      'cachedPgPool: the SqlCache must be built on pgDriver (@stratacache/sql-cache/pg); its driver cannot take pg query configs',
      { context: { option: 'sql' } },
    );
  return new CachedPgPool(sql, parsers);
}
