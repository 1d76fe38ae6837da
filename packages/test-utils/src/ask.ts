/** One command to one server over a short-lived connection, for the topology helpers' polling. */
import { Redis } from 'ioredis';

/** Runs `args` on the server at `port`; resolves undefined when it does not answer within 1 s. */
export async function askRedis(port: number, password: string | undefined, ...args: string[]): Promise<unknown> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    password,
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(args[0] as string, ...args.slice(1));
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}
