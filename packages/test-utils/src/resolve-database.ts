/**
 * Finds the databases of tests, as `resolveRedis` finds Redis:
 *
 * PostgreSQL: 1. `DATABASE_URL` when set; 2. the local server at
 * 127.0.0.1:5432, database `test` (when something answers on the port);
 * 3. otherwise PGlite, embedded PostgreSQL in the test process (`source:
 * 'pglite'`, no URL): tests that need a server of their own (a second
 * connection, pg_terminate_backend) fail with {@link NEEDS_POSTGRES_SERVER}.
 *
 * MySQL / MariaDB: 1. `MYSQL_URL`; 2. the local server at 127.0.0.1:3306,
 * user root, database `test`; 3. otherwise an error saying how to get one.
 * Never a silent skip.
 */
import { connect } from 'node:net';

/** Where the PostgreSQL of a test run comes from. */
export type PostgresSource = 'env' | 'local' | 'pglite';

/** The PostgreSQL of a test run. */
export interface ResolvedPostgres {
  source: PostgresSource;
  /** Connection URL; absent for PGlite. */
  url?: string;
}

/** The MySQL / MariaDB of a test run. */
export interface ResolvedMysql {
  source: 'env' | 'local';
  url: string;
}

/** Options of the resolvers; they exist so tests can prove each step. */
export interface ResolveDatabaseOptions {
  /** Environment to read `DATABASE_URL` / `MYSQL_URL` from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Host of the local server. @default '127.0.0.1' */
  host?: string;
  /** Port of the local server. @default 5432 (PostgreSQL), 3306 (MySQL) */
  port?: number;
  /** How long to wait for the port to answer, ms. @default 1000 */
  probeTimeoutMs?: number;
}

/** The message of tests that need a PostgreSQL server when only PGlite was found. */
export const NEEDS_POSTGRES_SERVER = [
  'This test needs a PostgreSQL server (a second connection, or pg_terminate_backend), and none was found:',
  '  - set DATABASE_URL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test pnpm test',
  '  - or run PostgreSQL on 127.0.0.1:5432 with a database named test (Debian: apt-get install postgresql)',
].join('\n');

/** The message when no MySQL / MariaDB is found. */
export const NO_MYSQL_MESSAGE = [
  'No MySQL or MariaDB for the tests. Any one of these works:',
  '  - set MYSQL_URL, e.g. MYSQL_URL=mysql://root@127.0.0.1:3306/test pnpm test',
  '  - run MariaDB or MySQL on 127.0.0.1:3306 with user root (empty password) and a database named test',
  '    (Debian: apt-get install mariadb-server, then: mariadb -e "CREATE DATABASE IF NOT EXISTS test")',
].join('\n');

/** True when something accepts a TCP connection on `host:port` within `timeoutMs`. */
export function portAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Resolves the PostgreSQL of a test run by the order above. */
export async function resolvePostgres(options: ResolveDatabaseOptions = {}): Promise<ResolvedPostgres> {
  const env = options.env ?? process.env;
  const url = env.DATABASE_URL?.trim();
  if (url) return { source: 'env', url };
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 5432;
  if (await portAnswers(host, port, options.probeTimeoutMs)) {
    return { source: 'local', url: `postgres://postgres@${host}:${port}/test` };
  }
  return { source: 'pglite' };
}

/** Resolves the MySQL / MariaDB of a test run by the order above; throws {@link NO_MYSQL_MESSAGE} otherwise. */
export async function resolveMysql(options: ResolveDatabaseOptions = {}): Promise<ResolvedMysql> {
  const env = options.env ?? process.env;
  const url = env.MYSQL_URL?.trim();
  if (url) return { source: 'env', url };
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 3306;
  if (await portAnswers(host, port, options.probeTimeoutMs)) {
    return { source: 'local', url: `mysql://root@${host}:${port}/test` };
  }
  throw new Error(NO_MYSQL_MESSAGE);
}
