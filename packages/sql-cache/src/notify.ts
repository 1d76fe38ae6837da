/**
 * Writes made by other applications (PostgreSQL): statement-level triggers
 * that `pg_notify` the written table after every INSERT, UPDATE, DELETE and
 * TRUNCATE, and a LISTEN that invalidates the table when the notification
 * arrives. PostgreSQL delivers notifications only after COMMIT (none on
 * ROLLBACK), so this catches writes parsing cannot see too: ON DELETE
 * CASCADE, triggers that write other tables, functions.
 *
 * A lost LISTEN connection is a gap: notifications sent meanwhile are gone,
 * so every table is invalidated when it is lost and again when it is back.
 * Not usable through PgBouncer in transaction mode (LISTEN needs a session).
 */
import { ConfigError } from '@stratacache/core-client';
import { ALL_TABLES } from './parse/analysis.js';
import type { SqlCache } from './sql-cache.js';

/** Options of the trigger installer and of `listen`. */
export interface NotifyOptions {
  /** The notification channel (a plain lower-case identifier). @default 'stratacache_sql' */
  channel?: string;
  /** Schema that holds the trigger function. @default 'public' */
  functionSchema?: string;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;
const TRIGGER = 'stratacache_notify';
const FUNCTION = 'stratacache_sql_notify';

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function qualified(table: string): string {
  return table.split('.').map(ident).join('.');
}

function resolve(options: NotifyOptions): { channel: string; fn: string } {
  const channel = options.channel ?? 'stratacache_sql';
  if (!CHANNEL.test(channel))
    throw new ConfigError(
      `channel must be a lower-case identifier (letters, digits, _); got ${JSON.stringify(channel)}`,
    );
  return { channel, fn: `${ident(options.functionSchema ?? 'public')}.${ident(FUNCTION)}` };
}

/** Base tables of the database outside the system schemas, as `schema.table`. */
async function allTables(sql: SqlCache): Promise<string[]> {
  const { rows } = await sql.db.query(
    "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    [],
  );
  return (rows as Array<{ table_schema: string; table_name: string }>).map((r) => `${r.table_schema}.${r.table_name}`);
}

/**
 * Installs (idempotently) the notify function and a statement-level trigger
 * on each of `tables` (`'all'`: every base table outside the system schemas).
 * Resolves the tables given a trigger. PostgreSQL 14+ (and PGlite).
 */
export async function installNotifyTriggers(
  sql: SqlCache,
  tables: readonly string[] | 'all',
  options: NotifyOptions = {},
): Promise<string[]> {
  if (sql.dialect !== 'postgres')
    throw new ConfigError('Notify triggers need PostgreSQL; MySQL relies on parsing and TTLs');
  const { channel, fn } = resolve(options);
  await sql.db.query(
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
  RETURN NULL;
END
$body$`,
    [],
  );
  const list = tables === 'all' ? await allTables(sql) : [...tables];
  for (const table of list) {
    await sql.db.query(
      `CREATE OR REPLACE TRIGGER ${TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${qualified(table)} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}('${channel}')`,
      [],
    );
  }
  return list;
}

/** Drops the triggers of `tables` (the function stays: other tables may use it). */
export async function uninstallNotifyTriggers(sql: SqlCache, tables: readonly string[]): Promise<void> {
  for (const table of tables) await sql.db.query(`DROP TRIGGER IF EXISTS ${TRIGGER} ON ${qualified(table)}`, []);
}

/** A running LISTEN. */
export interface NotifyListener {
  /** Stops listening. */
  close(): Promise<void>;
}

/** LISTENs on the channel and invalidates each notified table; a lost connection invalidates every table. */
export async function listenForChanges(sql: SqlCache, options: NotifyOptions = {}): Promise<NotifyListener> {
  const listen = sql.db.listen?.bind(sql.db);
  if (!listen)
    throw new ConfigError('listen needs a PostgreSQL adapter that can LISTEN (pg Pool or Client, postgres, pglite)');
  const { channel } = resolve(options);
  const failed = () => sql.counters.fellBack('invalidation-failed');
  return listen(channel, {
    onMessage: (payload) => {
      if (payload) void sql.invalidate([sql.table(payload)], 'notify').catch(failed);
    },
    onGap: () => {
      void sql.invalidate([ALL_TABLES], 'gap').catch(failed);
    },
  });
}
