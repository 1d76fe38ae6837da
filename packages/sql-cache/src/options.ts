/**
 * Options of `createSqlCache`, resolved once into a frozen object. Durations
 * take milliseconds or strings such as `'30s'` (core-client's `Duration`).
 */
import { ConfigError, type Duration, type StrataRedis, toMs } from '@stratacache/core-client';
import type { InvalidationBus } from '@stratacache/invalidation';
import type { Cache } from '@stratacache/patterns';
import type { SqlDriver } from './driver.js';
import type { SqlParser } from './parse/analysis.js';

/** TTLs of the built-in categories. */
export const DEFAULT_CATEGORIES = Object.freeze({
  static: '24h',
  reference: '1h',
  default: '5m',
  volatile: '30s',
} as const);

/** How long results of one table are cached. */
export interface TableOptions {
  /** The TTL of results reading this table. Wins over `category`. */
  ttl?: Duration;
  /** A category name (`'static'`, `'reference'`, `'default'`, `'volatile'` or one of `categories`). */
  category?: string;
}

/** Options of {@link createSqlCache}. */
export interface SqlCacheOptions {
  /**
   * The patterns Cache holding results. Give sql-cache a cache (or a
   * `namespace()`) of its own, created with `tags: 'lazy'`: every table is a
   * tag, and lazy tags cost nothing per entry.
   */
  cache: Cache<unknown>;
  /** The database, through an adapter (`pgDriver(pool)`, `postgresDriver(sql)`, `mysql2Driver(pool)`, `pgliteDriver(db)`). */
  db: SqlDriver;
  /** `'postgres'` or `'mysql'`. @default the adapter's */
  dialect?: 'postgres' | 'mysql';
  /** The parser; `false` to rely on explicit `tables` only. @default the adapter's */
  parser?: SqlParser | false;
  /**
   * The Redis of the cache: transaction horizons are recorded there, so a
   * writer on one instance makes readers on every instance bypass the cache.
   * Without it horizons are kept in this process only.
   */
  redis?: StrataRedis;
  /** The bus of the cache: other instances hear of horizons at once instead of at their next refresh. */
  bus?: InvalidationBus;
  /** Defaults of every read. */
  defaults?: {
    /** TTL when neither the call nor the tables say. Wins over `category`. @default the 'default' category (5m) */
    ttl?: Duration;
    /** Category when neither the call nor the tables say. @default 'default' */
    category?: string;
  };
  /** TTLs by category, merged over the built-ins: static 24h, reference 1h, default 5m, volatile 30s. */
  categories?: Record<string, Duration>;
  /** Per-table TTL or category (`{ countries: { category: 'static' } }`); a read of several tables takes the shortest. */
  tables?: Record<string, TableOptions>;
  /** Views and the tables they read (`{ order_totals: ['orders', 'order_lines'] }`); merged over discovered ones. */
  views?: Record<string, readonly string[]>;
  /**
   * Read the views of the database from `information_schema.view_table_usage`
   * on first use (PostgreSQL; MySQL 8.0.13+). A failed read is published and
   * leaves declared views only. @default true for postgres, false for mysql (MariaDB has no such view)
   */
  discoverViews?: boolean;
  /**
   * `'ignore'`: a table is known by its name alone (`sales.orders` and
   * `orders` are one table), which is right whatever the search_path.
   * `'qualify'`: names are `schema.table`, unqualified ones taken to live in
   * `defaultSchema`; use it only when that always holds. @default 'ignore'
   */
  schemas?: 'ignore' | 'qualify';
  /** The schema of unqualified names with `schemas: 'qualify'`. @default 'public' (postgres), required for mysql */
  defaultSchema?: string;
  /** Distinct SQL texts whose analysis is memoized (an LRU). @default 5000 */
  parseCacheSize?: number;
  /**
   * Horizons: while a transaction (or an autocommit write) is writing a
   * table, readers of the table on every instance bypass the cache, so the
   * instant between COMMIT and the invalidation serves no stale result.
   * `lifetime` bounds a horizon whose writer died; `refresh` is how often an
   * instance re-reads horizons from Redis (the bus tells it at once).
   * `false` turns horizons off (the fetch-start stamp alone then guards results).
   * @default { lifetime: '1m', refresh: '10s' with a bus, '1s' without }
   */
  horizon?: { lifetime?: Duration; refresh?: Duration } | false;
}

/** Options with defaults applied. */
export interface ResolvedSqlCacheOptions {
  dialect: 'postgres' | 'mysql';
  parser: SqlParser | undefined;
  defaultTtlMs: number;
  categories: Readonly<Record<string, number>>;
  tableTtlMs: ReadonlyMap<string, number>;
  views: ReadonlyMap<string, readonly string[]>;
  discoverViews: boolean;
  schemas: 'ignore' | 'qualify';
  defaultSchema: string;
  parseCacheSize: number;
  horizon: false | { lifetimeMs: number; refreshMs: number };
}

/** Resolves and checks `options` (throws `ConfigError` naming the option). */
export function resolveSqlCacheOptions(options: SqlCacheOptions): Readonly<ResolvedSqlCacheOptions> {
  if (!options || typeof options !== 'object') throw new ConfigError('createSqlCache needs an options object');
  if (!options.cache || typeof options.cache.getOrSet !== 'function' || typeof options.cache.deleteByTag !== 'function')
    throw new ConfigError('cache must be a Cache of @stratacache/patterns (createCache({ tags: "lazy", ... }))');
  const db = options.db;
  if (!db || typeof db.query !== 'function' || typeof db.transaction !== 'function')
    throw new ConfigError(
      'db must be a driver from an adapter: pgDriver(pool), postgresDriver(sql), mysql2Driver(pool) or pgliteDriver(db)',
    );
  const dialect = options.dialect ?? db.dialect;
  if (dialect !== 'postgres' && dialect !== 'mysql')
    throw new ConfigError(`dialect must be 'postgres' or 'mysql'; got ${JSON.stringify(dialect)}`);
  const parser = options.parser === false ? undefined : (options.parser ?? db.parser);
  if (parser !== undefined && (typeof parser.analyze !== 'function' || typeof parser.load !== 'function'))
    throw new ConfigError('parser must implement SqlParser (load(), analyze(sql))');
  const categories: Record<string, number> = {};
  for (const [name, ttl] of Object.entries({ ...DEFAULT_CATEGORIES, ...(options.categories ?? {}) }))
    categories[name] = positive(toMs(ttl, `categories.${name}`), `categories.${name}`);
  const category = (name: string, option: string): number => {
    const ttl = categories[name];
    if (ttl === undefined)
      throw new ConfigError(
        `${option}: unknown category ${JSON.stringify(name)}; known: ${Object.keys(categories).join(', ')}`,
      );
    return ttl;
  };
  const defaults = options.defaults ?? {};
  const defaultTtlMs =
    defaults.ttl !== undefined
      ? positive(toMs(defaults.ttl, 'defaults.ttl'), 'defaults.ttl')
      : category(defaults.category ?? 'default', 'defaults.category');
  const schemas = options.schemas ?? 'ignore';
  if (schemas !== 'ignore' && schemas !== 'qualify')
    throw new ConfigError(`schemas must be 'ignore' or 'qualify'; got ${JSON.stringify(schemas)}`);
  const defaultSchema = (options.defaultSchema ?? (dialect === 'postgres' ? 'public' : '')).toLowerCase();
  if (schemas === 'qualify' && !defaultSchema)
    throw new ConfigError("defaultSchema is required with schemas: 'qualify' on mysql (the database name)");
  const name = (table: string) => tableId(table, schemas, defaultSchema);
  const tableTtlMs = new Map<string, number>();
  for (const [table, t] of Object.entries(options.tables ?? {})) {
    const ttl =
      t.ttl !== undefined
        ? positive(toMs(t.ttl, `tables.${table}.ttl`), `tables.${table}.ttl`)
        : t.category !== undefined
          ? category(t.category, `tables.${table}.category`)
          : undefined;
    if (ttl === undefined) throw new ConfigError(`tables.${table} needs a ttl or a category`);
    tableTtlMs.set(name(table), ttl);
  }
  const views = new Map<string, readonly string[]>();
  for (const [view, bases] of Object.entries(options.views ?? {})) {
    if (!Array.isArray(bases) || bases.some((b) => typeof b !== 'string' || b.length === 0))
      throw new ConfigError(`views.${view} must be an array of table names`);
    views.set(name(view), bases.map(name));
  }
  const parseCacheSize = options.parseCacheSize ?? 5000;
  if (!(Number.isInteger(parseCacheSize) && parseCacheSize > 0))
    throw new ConfigError(`parseCacheSize must be a positive integer; got ${parseCacheSize}`);
  let horizon: ResolvedSqlCacheOptions['horizon'] = false;
  if (options.horizon !== false) {
    const h = options.horizon ?? {};
    horizon = {
      lifetimeMs: positive(toMs(h.lifetime ?? '1m', 'horizon.lifetime'), 'horizon.lifetime'),
      refreshMs: toMs(h.refresh ?? (options.bus ? '10s' : '1s'), 'horizon.refresh'),
    };
  }
  return Object.freeze({
    dialect,
    parser,
    defaultTtlMs,
    categories: Object.freeze(categories),
    tableTtlMs,
    views,
    discoverViews: options.discoverViews ?? dialect === 'postgres',
    schemas,
    defaultSchema,
    parseCacheSize,
    horizon,
  });
}

/** The identity of a table: lower-cased; its schema dropped (`'ignore'`) or added (`'qualify'`). */
export function tableId(table: string, schemas: 'ignore' | 'qualify', defaultSchema: string): string {
  const t = table.trim().toLowerCase();
  const dot = t.lastIndexOf('.');
  if (schemas === 'ignore') return dot === -1 ? t : t.slice(dot + 1);
  return dot === -1 ? `${defaultSchema}.${t}` : t;
}

function positive(ms: number, name: string): number {
  if (!(ms > 0)) throw new ConfigError(`${name} must be greater than 0; got ${ms}`);
  return ms;
}
