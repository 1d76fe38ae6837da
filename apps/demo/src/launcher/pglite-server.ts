/**
 * The embedded PostgreSQL of the demo, as a child process of the launcher:
 * PGlite (PostgreSQL compiled to WASM, in memory) behind a wire-protocol
 * server on a loopback port (`pglite-wire.ts`), so the instances use the `pg`
 * driver exactly as they would against a real server.
 *
 * A fresh PGlite runs initdb inside WASM (4.5 to 8 s and 700 MB here), and
 * seeding the shop takes another 2.5 to 4 s. So the first run keeps a dump of
 * the database right after it was seeded (`DEMO_PGLITE_TEMPLATE`, named after
 * the PGlite version and the schema's hash); later runs load it (1.5 to 3 s,
 * half the memory) and start from that same freshly seeded state every time.
 *
 * Talks to the launcher over the IPC channel: `{ listening, port }` as soon as
 * its port is bound, `{ ready, port, seeded }` once PGlite runs (`seeded`: loaded from the template, nothing to seed);
 * on `{ keep: true }` (sent after seeding, before any instance connects) it
 * writes the template and answers `{ kept }`. Exits when the launcher
 * disconnects (it died) or on SIGTERM.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PgliteWireServer } from './pglite-wire.js';

const template = process.env.DEMO_PGLITE_TEMPLATE;

async function open(): Promise<{ db: PGlite; seeded: boolean }> {
  if (template && existsSync(template)) {
    try {
      return { db: await PGlite.create({ loadDataDir: new Blob([readFileSync(template)]) }), seeded: true };
    } catch {
      // A truncated or unreadable file: start from scratch; the launcher seeds and we rewrite it.
    }
  }
  return { db: await PGlite.create(), seeded: false };
}

/** Writes the template: a file of our own, then a rename, so a run killed mid-write (or two first runs at once: the tests start two demos) never leaves a truncated one. */
async function keep(db: PGlite): Promise<boolean> {
  if (!template) return false;
  try {
    // Nothing else runs meanwhile: the launcher seeded and closed its connection, no instance has connected.
    const dump = await db.dumpDataDir('gzip');
    mkdirSync(dirname(template), { recursive: true });
    const tmp = `${template}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, template);
    // Templates of earlier PGlite versions or schemas are of no further use.
    for (const old of readdirSync(dirname(template)))
      if (old.startsWith('pglite-') && old.endsWith('.tgz') && old !== basename(template))
        rmSync(join(dirname(template), old), { force: true });
    return true;
  } catch (error) {
    console.error(
      `pglite: could not keep the seeded database (${(error as Error).message}); the next start seeds again`,
    );
    return false;
  }
}

// The port first (the OS picks a free one as we bind it, so nothing can take it between a probe and
// the bind), then the database: the launcher hands the URL to the instances while PGlite starts.
const server = new PgliteWireServer();
const port = await server.listen(0);
process.send?.({ listening: true, port });
const { db, seeded } = await open();
server.attach(db);
process.on('message', (message: { keep?: boolean }) => {
  if (message?.keep) void keep(db).then((kept) => process.send?.({ kept }));
});
process.send?.({ ready: true, port, seeded });

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await server.close().catch(() => {});
  await db.close().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
process.on('disconnect', () => void shutdown());
