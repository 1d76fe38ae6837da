/**
 * Follows a Sentinel failover as soon as Sentinel announces it. A client
 * whose master died keeps reconnecting with a growing, jittered delay (up to
 * `reconnectMaxDelay`, 2 s by default): without a nudge it finds the promoted
 * replica up to that long after the promotion. Sentinel publishes
 * `+promoted-slave slave <ip:port> <ip> <port> @ <name> <old-ip> <old-port>`
 * once it has seen the replica become master (from then on it answers
 * GET-MASTER-ADDR-BY-NAME with the new address), and `+switch-master <name>
 * <old-ip> <old-port> <new-ip> <new-port>` when the failover ends. On either,
 * every connection of the client that is waiting to reconnect reconnects at
 * once (asking Sentinel for the master again), and one still connected to the
 * old master (alive, demoted by a manual failover) drops it and reconnects.
 *
 * One subscriber connection per configured sentinel (plain TCP, as the
 * client's own Sentinel queries), opened with the client and closed with it. If none can be reached, recovery still happens, at the
 * pace of the reconnect delays.
 */
import type { Redis } from 'ioredis';
import { Redis as RedisClient } from 'ioredis';
import type { ResolvedOptions } from './options.js';
import { reconnectDelay } from './reconnect.js';

/** The ioredis internals a nudge touches (pinned by the Sentinel failover tests). */
interface Reconnectable {
  status: string;
  reconnectTimeout?: NodeJS.Timeout | null;
  stream?: { remotePort?: number; remoteAddress?: string };
}

/** Makes `connection` reconnect now if it waits to, or if it is connected to `old` (`host:port`). */
export function nudge(connection: Redis, old: { host: string; port: number }): void {
  const c = connection as unknown as Reconnectable;
  if (c.status === 'reconnecting') {
    // ioredis's own timer would call connect() again later: cancel it, connect now.
    if (c.reconnectTimeout) clearTimeout(c.reconnectTimeout);
    c.reconnectTimeout = null;
    connection.connect().catch(() => {});
  } else if (c.status === 'ready' && c.stream?.remotePort === old.port) {
    connection.disconnect(true);
  }
}

/** The master and its old address in `+switch-master <name> <old-ip> <old-port> <new-ip> <new-port>`. */
function switchedFrom(message: string): { name: string; host: string; port: number } | undefined {
  const [name, host, port] = message.split(' ');
  return name && host && port ? { name, host, port: Number(port) } : undefined;
}

/** The master and its old address in `+promoted-slave slave <ip:port> <ip> <port> @ <name> <old-ip> <old-port>`. */
function promotedFrom(message: string): { name: string; host: string; port: number } | undefined {
  const [name, host, port] = message.split(' @ ')[1]?.split(' ') ?? [];
  return name && host && port ? { name, host, port: Number(port) } : undefined;
}

/**
 * Subscribes to `+promoted-slave` and `+switch-master` on every sentinel of `options` and nudges
 * `connections()` when the master named `options.sentinelName` moves.
 * Returns a function that stops watching.
 */
export function watchSentinels(options: ResolvedOptions, connections: () => Iterable<Redis>): () => void {
  const watchers = options.sentinels.map((sentinel) => {
    const watcher = new RedisClient({
      host: sentinel.host,
      port: sentinel.port,
      connectionName: `${options.connectionName}:sentinel-watch`,
      connectTimeout: options.connectTimeoutMs,
      retryStrategy: (attempt) => reconnectDelay(attempt, options.reconnectBaseDelayMs, options.reconnectMaxDelayMs),
      maxRetriesPerRequest: null,
    });
    // A sentinel that cannot be reached only slows recovery down to the reconnect delays.
    watcher.on('error', () => {});
    watcher.subscribe('+promoted-slave', '+switch-master').catch(() => {});
    watcher.on('message', (channel: string, message: string) => {
      const old = channel === '+switch-master' ? switchedFrom(message) : promotedFrom(message);
      if (old === undefined || old.name !== options.sentinelName) return;
      for (const connection of connections()) nudge(connection, old);
    });
    return watcher;
  });
  return () => {
    for (const watcher of watchers) watcher.disconnect();
  };
}
