/**
 * `pnpm admin`: starts the console on ADMIN_HOST:ADMIN_PORT (127.0.0.1:8420),
 * against the Redis of REDIS_URL (or the other core-client variables). With
 * no ADMIN_PASSWORD_HASH on a loopback interface it prints a one-time admin
 * password; on any other interface it refuses to start without one.
 */
import { StratacacheError } from '@stratacache/core-client';
import { buildAdminServer } from './server.js';

async function main(): Promise<void> {
  const server = await buildAdminServer({ logger: process.env.ADMIN_LOG === 'true' });
  const { options } = server.context;
  const address = await server.app.listen({ host: options.host, port: options.port });
  console.log(`stratacache admin: ${address} (Redis ${server.context.redis.toString()})`);
  if (server.oneTimePassword) {
    console.log(
      `No ADMIN_PASSWORD_HASH is set: log in as "admin" with this one-time password (valid until the console stops):`,
    );
    console.log(`  ${server.oneTimePassword}`);
  }
  if (options.sessionSecretGenerated) {
    console.log('No ADMIN_SESSION_SECRET is set: logins end when the console stops.');
  }
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  const message = StratacacheError.isInstance(error) ? `${error.code}: ${error.message}` : String(error);
  console.error(`stratacache admin did not start: ${message}`);
  process.exit(1);
});
