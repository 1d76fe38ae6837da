/**
 * The demo's PostgreSQL: `DATABASE_URL` when set (the demo works in a schema
 * of its own there, `stratashop`, recreated at every start), else the embedded
 * PGlite server (`pglite-server.ts`) as a child process on a free port.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type Child, startChild } from './children.js';
import { DemoStartError } from './fatal.js';
import { redactUrl } from './redact.js';
import { SCHEMA_VERSION } from './schema.js';

/** The database the demo runs on. */
export interface DemoDatabase {
  /** What the instances connect to. */
  url: string;
  /** `'embedded'` (PGlite) or `'external'` (DATABASE_URL). */
  kind: 'embedded' | 'external';
  /** The schema the demo's tables live in (a search_path the instances set). */
  schema: string;
  child?: Child;
  /**
   * Resolves once it accepts connections (the embedded one starts in the background meanwhile);
   * `seeded`: the embedded database came from its kept, already seeded state.
   */
  ready: Promise<{ seeded: boolean }>;
  /** After seeding, before any instance connects: the embedded database keeps this state for the next start. */
  keep(): Promise<void>;
  stop(): Promise<void>;
}

const appDir = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Resolves the demo's database from `env`: DATABASE_URL once it answered, or the embedded one as soon as
 * it is spawned (its URL is known from the start; `ready` says when it accepts connections), so the
 * instances can load their code while PGlite starts.
 */
export async function resolveDatabase(env: NodeJS.ProcessEnv): Promise<DemoDatabase> {
  if (env.DATABASE_URL) {
    await checkReachable(env.DATABASE_URL);
    return {
      url: env.DATABASE_URL,
      kind: 'external',
      schema: 'stratashop',
      ready: Promise.resolve({ seeded: false }),
      keep: async () => {},
      stop: async () => {},
    };
  }
  return startPglite(env);
}

async function checkReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new DemoStartError(
      `Cannot reach PostgreSQL at DATABASE_URL=${redactUrl(url)} (${(error as Error).message}). ` +
        'Start that server, fix the URL, or unset DATABASE_URL to use the embedded database (PGlite).',
    );
  } finally {
    await client.end().catch(() => {});
  }
}

/** Where the seeded PGlite database is kept between runs, per PGlite version and schema. */
function templatePath(): string {
  // The manifest is not in the package's exports: read it from where pnpm linked the package.
  const manifest = readFileSync(`${appDir}node_modules/@electric-sql/pglite/package.json`, 'utf8');
  const { version } = JSON.parse(manifest) as { version: string };
  return `${appDir}node_modules/.cache/stratashop/pglite-${version}-${SCHEMA_VERSION}.tgz`;
}

async function startPglite(env: NodeJS.ProcessEnv): Promise<DemoDatabase> {
  const script = fileURLToPath(new URL('./pglite-server.ts', import.meta.url));
  const child = startChild('pglite', process.execPath, ['--import', 'tsx', script], {
    cwd: appDir,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...env,
      DEMO_PGLITE_TEMPLATE: env.DEMO_PGLITE_TEMPLATE || templatePath(),
    },
  });
  // The child binds a free port first and says which; PGlite starts after that.
  const port = await Promise.race([
    new Promise<number>((resolve) =>
      child.process.on('message', (m: { listening?: boolean; port?: number }) => {
        if (m?.listening && m.port) resolve(m.port);
      }),
    ),
    child.exited.then(() => undefined),
  ]);
  if (!port) throw new DemoStartError('The embedded database (PGlite) exited before it listened; its output is above.');
  const ready = Promise.race([
    new Promise<{ seeded: boolean }>((resolve) =>
      child.process.on('message', (m: { ready?: boolean; seeded?: boolean }) => {
        if (m?.ready) resolve({ seeded: m.seeded === true });
      }),
    ),
    child.exited.then(() => undefined),
  ]).then((answer) => {
    if (!answer)
      throw new DemoStartError('The embedded database (PGlite) exited before it was ready; its output is above.');
    return answer;
  });
  ready.catch(() => {}); // awaited by the launcher; never an unhandled rejection meanwhile
  return {
    ready,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    kind: 'embedded',
    schema: 'public',
    child,
    keep: () =>
      new Promise<void>((resolve) => {
        // Kept or not (the child says why), the demo goes on.
        const done = (m: { kept?: boolean }) => {
          if (m && 'kept' in m) {
            child.process.off('message', done);
            resolve();
          }
        };
        child.process.on('message', done);
        void child.exited.then(() => resolve());
        child.process.send({ keep: true });
      }),
    stop: () => child.stop(),
  };
}
