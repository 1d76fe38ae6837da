/**
 * One shop instance (the launcher starts two): connects to Redis and
 * PostgreSQL, starts the periodic jobs, listens on 127.0.0.1:PORT and tells the
 * launcher over IPC. SIGTERM or SIGINT closes it in order: stop accepting
 * requests, finish those in flight, stop the jobs, flush the view journal,
 * close the connections. It also exits if the launcher disappears.
 */

import { logBreakerChanges } from './app/breaker-log.js';
import { readConfig } from './app/config.js';
import { startOrderGenerator } from './app/jobs/order-generator.js';
import { startReindex } from './app/jobs/reindex.js';
import { buildApp } from './app/server.js';
import { createServices } from './app/services.js';

const config = readConfig();
logBreakerChanges();
if (process.env.DEMO_WAIT_FOR_GO === '1') {
  // Loaded; the launcher says when the database is up and seeded.
  await new Promise<void>((resolve) =>
    process.on('message', (m: { go?: boolean }) => {
      if (m?.go) resolve();
    }),
  );
}
const services = await createServices(config);
const reindex = startReindex(services);
const generator = startOrderGenerator(services);
const app = await buildApp(services, {
  reindex: reindex.status,
  generator: generator.status,
});
// The launcher checked the port when it started us; if something took it meanwhile, any free port will do
// (the launcher prints the URL we report).
const port = await listen(config.port).catch(async (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EADDRINUSE' || config.port === 0) throw error;
  console.log(`port ${config.port} was taken meanwhile; listening on a free port instead`);
  return listen(0);
});
const url = `http://127.0.0.1:${port}`;
console.log(`instance ${config.instance} listening on ${url}`);
process.send?.({ ready: true, url });

async function listen(wanted: number): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: wanted });
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : wanted;
}

let closing: Promise<void> | undefined;
function close(): Promise<void> {
  closing ??= (async () => {
    await app.close();
    await Promise.all([reindex.stop(), generator.stop()]);
    await services.close();
    process.exit(0);
  })();
  return closing;
}
process.on('SIGTERM', () => void close());
process.on('SIGINT', () => void close());
// The launcher died without stopping us (its reaper would SIGKILL us anyway): close cleanly first.
process.on('disconnect', () => void close());
