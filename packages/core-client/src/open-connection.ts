/**
 * Opens one ioredis connection (standalone, Sentinel or Cluster) with the
 * client's fail-fast settings and every guard in place before its first
 * socket: the command guard (timeouts, offline-queue bound, sent tracking,
 * fatal errors, budgets, script loading), the socket-error guard, and the
 * events that keep the connection facts current.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { currentBudget } from './budget.js';
import type { ClusterBreaker } from './cluster-breakers.js';
import { guardCommands } from './command-guard.js';
import type { ConnectionState } from './connection-state.js';
import { publishDiagnostic } from './diagnostics.js';
import { mapRedisError } from './error-mapping.js';
import type { StratacacheError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { reconnectDelay } from './reconnect.js';
import type { ScriptRegistry } from './script-registry.js';
import { guardSockets } from './stream-guard.js';

/** The ioredis client type underneath. */
export type RedisConnection = Redis | Cluster;

/** What a connection needs from its client. */
export interface OpenConnectionOptions {
  options: ResolvedOptions;
  password: string | undefined;
  /** Connection name (CLIENT SETNAME); the client's own name marks the main connection. */
  name: string;
  state: ConnectionState;
  scripts: ScriptRegistry;
  /** A connection-level failure, mapped (also for duplicates). */
  onError(error: StratacacheError): void;
  /** The connection is ready (`main`: the client's main connection). */
  onReady(name: string, main: boolean): void;
  onClose(name: string): void;
  overrides?: Partial<RedisOptions>;
  clusterOverrides?: Partial<ClusterOptions>;
  /** On Cluster, the main connection's per-node breakers. */
  breakers?: ClusterBreaker;
}

/**
 * How ioredis retries inside one command on Cluster while slots move or a
 * master fails over. Every retry stays within the command's timeout (armed
 * from issue by the command guard, or the verb's time budget when shorter):
 * redirections are allowed generously so that the time budget, not a count,
 * ends a retry; what is still failing then is a `TimeoutError`, or a
 * `ConnectionError` ("failing over") once the redirections run out.
 */
export const CLUSTER_RETRY = Object.freeze({
  /** A MOVED reply: the slot map is updated at once; retried after a short pause (a failover's MOVED loops). */
  retryDelayOnMoved: 25,
  /** The node's connection closed (a master died): the slot map is refreshed, then retried. */
  retryDelayOnFailover: 100,
  /** CLUSTERDOWN (a master failed, no replica promoted yet). */
  retryDelayOnClusterDown: 100,
  /** TRYAGAIN (a multi-key command during a slot migration). */
  retryDelayOnTryAgain: 50,
  /** Redirections and retries of one command before it fails (the timeout usually ends it first). */
  maxRedirections: 64,
});

/** Opens a connection and starts connecting it. */
export function openConnection(params: OpenConnectionOptions): RedisConnection {
  const { options: o, name, state, scripts } = params;
  const retryStrategy = (attempt: number): number => {
    const delayMs = reconnectDelay(attempt, o.reconnectBaseDelayMs, o.reconnectMaxDelayMs);
    publishDiagnostic('reconnect', { client: name, attempt, delayMs });
    return delayMs;
  };
  const common: RedisOptions = {
    username: o.username,
    password: params.password,
    tls: o.tls as RedisOptions['tls'],
    connectTimeout: o.connectTimeoutMs,
    commandTimeout: o.commandTimeoutMs,
    maxRetriesPerRequest: o.maxRetriesPerRequest,
    enableOfflineQueue: true,
    connectionName: name,
    retryStrategy,
    // Connected below, once the socket guard is in place for the very first socket.
    lazyConnect: true,
    ...params.overrides,
  };
  let connection: RedisConnection;
  if (o.mode === 'cluster') {
    const clusterOptions: ClusterOptions = {
      redisOptions: common,
      clusterRetryStrategy: retryStrategy,
      enableOfflineQueue: true,
      scaleReads: 'master',
      slotsRefreshTimeout: o.connectTimeoutMs,
      lazyConnect: true,
      ...CLUSTER_RETRY,
      ...params.clusterOverrides,
    };
    connection = new Cluster(o.clusterNodes, clusterOptions);
  } else if (o.mode === 'sentinel') {
    connection = new Redis({
      ...common,
      sentinels: o.sentinels,
      name: o.sentinelName,
      role: 'master',
      db: o.db,
      sentinelRetryStrategy: retryStrategy,
      enableTLSForSentinelMode: Boolean(o.tls),
      // A master demoted while connected (a manual failover, a partition healed) answers writes with
      // READONLY: reconnect, which asks Sentinel for the new master, and send the command again.
      reconnectOnError: (error) => (/^READONLY/.test(error.message) ? 2 : false),
    });
  } else {
    connection = new Redis({ ...common, host: o.host, port: o.port, path: o.socketPath, db: o.db });
  }
  // Duplicates and the subscriber share the guards, but only the main connection
  // drives the connection facts, loads scripts and closes a half-open breaker.
  const main = name === o.connectionName;
  const isCluster = Boolean((connection as Cluster).isCluster);
  guardCommands(connection, {
    maxOfflineQueue: o.maxOfflineQueue,
    name,
    timeoutMs: o.commandTimeoutMs,
    address: () => state.address,
    // A database index the server refused stops every connection of this client (they all SELECT it).
    fatal: () => state.fatal,
    budgetLeft: () => currentBudget()?.remainingMs(),
    // Scripts run on the main connection only (on Cluster: on its nodes, hooked below).
    beforeSend: main && !isCluster ? () => scripts.beforeSend(connection as Redis) : undefined,
    gate: main && isCluster ? params.breakers : undefined,
  });
  if (main && isCluster) params.breakers?.attach(connection as Cluster);
  // A second error on a socket is only kept from crashing the process; the first reaches 'error' below.
  const onSocketError = () => {};
  if (isCluster) {
    // Cluster creates one lazily connected client per node and announces it before its first connect.
    connection.on('+node', (node: Redis) => {
      guardSockets(node, onSocketError);
      if (main) loadScriptsFirst(node, scripts);
    });
  } else {
    guardSockets(connection as Redis, onSocketError, main ? (stream) => state.onSocket(stream) : undefined);
  }
  connection.on('error', (error: unknown) => {
    // The fatal error comes back once more through the ready check it failed: reported already.
    if (error === state.fatal) return;
    const failure = main ? state.onError(error, connection) : undefined;
    params.onError(
      failure ??
        mapRedisError(error, 'connection', { password: params.password, facts: state.facts(), tracked: false }),
    );
  });
  connection.on('ready', () => {
    if (main) state.onReady();
    publishDiagnostic('connect', { client: name, mode: o.mode });
    params.onReady(name, main);
  });
  connection.on('close', () => {
    if (main) state.onClose(connection.status);
    publishDiagnostic('close', { client: name });
    params.onClose(name);
  });
  // Failures surface on 'error' (above) and on commands; the promise itself carries nothing more.
  connection.connect().catch(() => {});
  return connection;
}

/** On a Cluster node: registered scripts go out before the node's first command of each connection. */
function loadScriptsFirst(node: Redis, scripts: ScriptRegistry): void {
  const target = node as unknown as { sendCommand: (...args: unknown[]) => Promise<unknown> };
  const original = target.sendCommand.bind(node);
  target.sendCommand = (...args: unknown[]) => {
    if (node.status === 'ready') scripts.beforeSend(node);
    return original(...args);
  };
}

/**
 * Closes `connection`: QUIT when ready (answered after every earlier reply,
 * so commands in flight finish first), else drop the socket.
 */
export async function quit(connection: RedisConnection, timeoutMs: number): Promise<void> {
  if (connection.status === 'end') return;
  const ended = new Promise<void>((resolve) => connection.once('end', () => resolve()));
  const within = (promise: Promise<unknown>, ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      promise.then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        () => {
          clearTimeout(timer);
          resolve();
        },
      );
    });
  if (connection.status === 'ready') {
    // QUIT is answered after every earlier command's reply, so in-flight commands finish first.
    await within(connection.quit(), timeoutMs);
  }
  // Not connected (nothing in flight can complete, queued commands are rejected now),
  // or QUIT got no answer in time: drop the socket.
  if ((connection.status as string) !== 'end') connection.disconnect();
  await within(ended, 1000);
}
