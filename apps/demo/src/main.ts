/**
 * `pnpm demo`: starts Redis (REDIS_URL, or a private redis-server), PostgreSQL
 * (DATABASE_URL, or embedded PGlite), creates and seeds the shop's tables,
 * starts two shop instances on two ports, and prints where they are.
 * Ctrl-C (SIGINT) or SIGTERM stops the instances first (they flush their
 * write-behind journal), then the database, then Redis; nothing is left.
 */
import { randomBytes } from 'node:crypto';
import { adminCommand } from './launcher/admin-command.js';
import { type Child, killAllNow, releaseReaper } from './launcher/children.js';
import { type DemoDatabase, resolveDatabase } from './launcher/database.js';
import { DemoStartError } from './launcher/fatal.js';
import { type DemoInstance, spawnInstance } from './launcher/instances.js';
import { bindablePort } from './launcher/ports.js';
import { redactUrl } from './launcher/redact.js';
import { clearPreviousRun, type DemoRedis, resolveRedis } from './launcher/redis.js';
import { createSchema, DEMO_PASSWORD, USERS } from './launcher/schema.js';
import { readState, removeState, stateFilePath, writeState } from './launcher/state-file.js';

const started = performance.now();
const env = process.env;
let redis: DemoRedis | undefined;
/** The key prefix of the shop's data (REDIS_NS, else `stratashop`). */
let prefix = 'stratashop';
let database: DemoDatabase | undefined;
const instances: DemoInstance[] = [];
/** Every instance process, also those still starting: stopped before the database and Redis. */
const stopFirst: Child[] = [];
let stopping: Promise<void> | undefined;

process.once('exit', killAllNow); // the last resort: nothing survives the launcher
process.on('SIGINT', () => void shutdown(0, 'Ctrl-C'));
process.on('SIGTERM', () => void shutdown(0, 'SIGTERM'));
process.on('SIGHUP', () => void shutdown(0, 'SIGHUP'));

function shutdown(code: number, why?: string): Promise<void> {
  stopping ??= (async () => {
    if (why) console.log(`\nstratashop: ${why}, stopping the instances, the database and Redis...`);
    // Instances first: they flush the view counters' journal and close their connections cleanly.
    await Promise.all(stopFirst.map((c) => c.stop(8000)));
    await database?.stop();
    await redis?.stop();
    removeState(stateFilePath(env));
    releaseReaper();
    if (why) console.log('stratashop: stopped; no process of the demo is left.');
    process.exit(code);
  })();
  return stopping;
}

function watch(child: Child, what: string): void {
  void child.exited.then((code) => {
    if (!stopping) {
      console.error(`stratashop: ${what} exited unexpectedly (${code}); stopping the demo.`);
      void shutdown(1);
    }
  });
}

async function start(): Promise<void> {
  redis = await resolveRedis(env);
  if (redis.child) watch(redis.child, 'redis-server');
  prefix = env.REDIS_NS || 'stratashop';
  if (!redis.owned) {
    const cleared = await clearPreviousRun(redis.url, prefix);
    if (cleared > 0)
      console.log(`stratashop: removed ${cleared} keys of an earlier run under ${prefix}:* on REDIS_URL`);
  }
  database = await resolveDatabase(env);
  if (database.child) watch(database.child, 'the embedded database');

  const base = Number(env.DEMO_PORT || 3000);
  if (!Number.isInteger(base) || base < 0 || base > 65534)
    throw new DemoStartError(`DEMO_PORT must be a port number; got ${env.DEMO_PORT}`);
  // 0: each instance binds a free port itself (no probe, so nothing can take it in between).
  const portA = base === 0 ? 0 : await bindablePort(base);
  const portB = base === 0 ? 0 : await bindablePort(base + 1);
  const shared: NodeJS.ProcessEnv = {
    ...env,
    REDIS_URL: redis.url,
    REDIS_NS: prefix,
    DATABASE_URL: database.url,
    DEMO_DB_SCHEMA: database.schema,
    // One secret for both instances (a session made on one is read on the other), new at every start.
    SESSION_SECRET: env.SESSION_SECRET || randomBytes(32).toString('base64url'),
  };
  // The instances load their code while the database starts and the shop is seeded.
  const starting = [spawnInstance('a', portA, shared), spawnInstance('b', portB, shared)];
  for (const i of starting) watch(i.child, `instance ${i.name}`);
  stopFirst.push(...starting.map((i) => i.child));
  const { seeded } = await database.ready;
  if (!seeded) {
    await createSchema(database.url, database.schema);
    // Before any instance writes: the next start loads this freshly seeded state instead of seeding.
    await database.keep();
  }
  const [a, b] = (await Promise.all(starting.map((i) => i.go()))) as [DemoInstance, DemoInstance];
  instances.push(a, b);
  const other = readState(stateFilePath(env));
  if (other)
    console.log(`stratashop: another demo runs (pid ${other.pid}); the tour and the load run now talk to this one.`);
  const pids = [redis.child?.pid, database.child?.pid, a.child.pid, b.child.pid].filter((p): p is number => !!p);
  writeState(
    {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      instances: instances.map((i) => ({ name: i.name, url: i.url, pid: i.child.pid })),
      redis: { url: redis.url, owned: redis.owned, ...(redis.child ? { pid: redis.child.pid } : {}) },
      database: { kind: database.kind, url: database.url, ...(database.child ? { pid: database.child.pid } : {}) },
      pids,
    },
    stateFilePath(env),
  );
  banner(a, b);
}

function banner(a: DemoInstance, b: DemoInstance): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const r = redis as DemoRedis;
  const d = database as DemoDatabase;
  const redisLine = r.owned
    ? `${r.url}  (a private redis-server, pid ${r.child?.pid})`
    : `${redactUrl(r.url)}  (REDIS_URL)`;
  const admin = adminCommand(r.url, prefix);
  const dbLine =
    d.kind === 'embedded' ? `${d.url}  (embedded PGlite, pid ${d.child?.pid})` : 'DATABASE_URL, schema "stratashop"';
  console.log(`
stratashop is ready in ${seconds} s: two instances of one shop API sharing Redis and PostgreSQL

  instance a   ${a.url}
  instance b   ${b.url}
  Redis        ${redisLine}
  PostgreSQL   ${dbLine}

  Try          curl -i '${a.url}/products?category=coffee'     (x-cache: miss, then hit)
               curl -i '${b.url}/top'
               open ${a.url}/ for every endpoint
  Tour         pnpm demo:tour     a guided walk through caching, invalidation, limits, locks and fail-safe
  Load         pnpm demo:load     throughput and latency with the cache on and off
  Admin        ${admin.command}
               the admin console on this Redis: keys, sessions, locks and claims, rate limits, windows${admin.redacted ? '\n               (put your REDIS_URL password in place of ***)' : ''}
  Users        ${USERS.join(', ')} (password "${DEMO_PASSWORD}")

  Ctrl-C stops everything.
`);
}

try {
  await start();
} catch (error) {
  // Stopped by a signal while starting: the children exiting is the stop, not a failure to report.
  if (stopping) await stopping;
  if (error instanceof DemoStartError) {
    console.error(`\nstratashop could not start. ${error.message}\n`);
  } else {
    console.error('\nstratashop could not start:', error);
  }
  await shutdown(1);
}
