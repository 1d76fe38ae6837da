/** One command to one server over a short-lived connection, for the topology helpers' polling. */
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';

function connection(port: number, password: string | undefined, commandTimeout = 1000): Redis {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    password,
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  return client;
}

/** Runs `args` on the server at `port`; resolves undefined when it does not answer within 1 s. */
export async function askRedis(port: number, password: string | undefined, ...args: string[]): Promise<unknown> {
  const client = connection(port, password);
  try {
    await client.connect();
    return await client.call(args[0] as string, ...args.slice(1));
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/**
 * Writes a short-lived key on the master at `port` and WAITs for `replicas`:
 * true once they all acknowledged it (always true without replicas). A
 * replica that just finished its first sync is put online by its first
 * acknowledgement, up to a second later; until then WAIT counts it out.
 */
export async function acknowledgedByAll(
  port: number,
  password: string | undefined,
  replicas: number,
): Promise<boolean> {
  if (replicas === 0) return true;
  const client = connection(port, password, 1500);
  try {
    await client.connect();
    await client.set(await ownKey(client, port), '1', 'PX', 200);
    return (await client.wait(replicas, 200)) >= replicas;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** A key this server accepts writes for: any key standalone, one in its own slots on Cluster. */
async function ownKey(client: Redis, port: number): Promise<string> {
  const info = (await client.call('INFO', 'cluster')) as string;
  if (!/cluster_enabled:1/.test(info)) return 'test-utils:ready';
  const slots = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const mine = slots.filter(([, , master]) => Number(master[1]) === port);
  for (let i = 0; i < 100_000; i++) {
    const key = `{r${i}}test-utils:ready`;
    const slot = calculateSlot(key);
    if (mine.some(([from, to]) => slot >= from && slot <= to)) return key;
  }
  throw new Error(`node ${port} serves no slot`);
}
