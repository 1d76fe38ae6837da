/**
 * The embedded PostgreSQL of the demo, as a child process of the launcher:
 * PGlite (PostgreSQL compiled to WASM, in memory) behind a wire-protocol
 * server on a loopback port (`pglite-wire.ts`), so the instances use the `pg`
 * driver exactly as they would against a real server.
 *
 * A fresh PGlite runs initdb inside WASM (about 4.5 s and 700 MB here); one
 * started from a dump of an initialised data directory skips that (about 1.5 s
 * and 370 MB). The first run writes that dump to `DEMO_PGLITE_TEMPLATE`; later
 * runs load it. The database itself always starts empty: the launcher creates
 * and seeds the schema every time.
 *
 * Talks to the launcher over the IPC channel: `{ ready: true, port }` once it
 * accepts connections; exits when the launcher disconnects (it died) or on SIGTERM.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PgliteWireServer } from './pglite-wire.js';

const port = Number(process.env.DEMO_PGLITE_PORT);
const template = process.env.DEMO_PGLITE_TEMPLATE;

async function open(): Promise<PGlite> {
  if (template && existsSync(template)) {
    try {
      return await PGlite.create({ loadDataDir: new Blob([readFileSync(template)]) });
    } catch {
      // A template from another PGlite version, or a truncated file: start from scratch and rewrite it.
    }
  }
  const db = await PGlite.create();
  if (template) {
    try {
      const dump = await db.dumpDataDir('gzip');
      mkdirSync(dirname(template), { recursive: true });
      // A file of our own, then a rename: a run killed mid-write, or two first runs at once (the tests
      // start two demos), never leave a truncated template behind.
      const tmp = `${template}.${process.pid}.tmp`;
      writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
      renameSync(tmp, template);
    } catch (error) {
      console.error(
        `pglite: could not keep the initialised data directory (${(error as Error).message}); the next start initialises again`,
      );
    }
  }
  return db;
}

const db = await open();
const server = new PgliteWireServer(db);
await server.listen(port);
process.send?.({ ready: true, port });

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
