/**
 * WAIT on the right connection. Redis replicates asynchronously: a write
 * acknowledged by a master is lost if the master fails before a replica has
 * it, and the promoted replica never saw it. WAIT blocks until `replicas`
 * replicas acknowledged every write *of the connection it is sent on*, or
 * until its timeout, and says how many did. So it must go on the connection
 * that carried the write: the client's main connection on standalone and
 * Sentinel, and on Cluster the connection to the master serving the key.
 *
 * WAIT holds that connection while it waits: commands queued behind it wait
 * too, for up to the timeout when replicas lag or are down. Keep it short.
 */
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { ConnectionError } from './errors.js';
import type { RedisConnection } from './open-connection.js';

/** Sends WAIT `replicas` `timeoutMs` on the connection that carries writes of `key`; resolves the replicas that acknowledged. */
export async function waitOnKeyConnection(
  client: RedisConnection,
  key: string,
  replicas: number,
  timeoutMs: number,
): Promise<number> {
  if (!(client as Cluster).isCluster) return (client as Redis).wait(replicas, timeoutMs);
  const cluster = client as Cluster;
  const owner = cluster.slots[calculateSlot(key)]?.[0];
  const node = cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  if (!node) {
    throw new ConnectionError(
      `No connection to the Cluster master serving ${key}'s slot (owner ${owner ?? 'unknown'}): WAIT cannot be sent where the write went.`,
      { context: { command: 'wait', sent: false, kind: 'unavailable' } },
    );
  }
  return node.wait(replicas, timeoutMs);
}
