/**
 * `createRedis`: a managed ioredis client (standalone, Sentinel or Cluster)
 * with fail-fast defaults, a bounded offline queue, jittered reconnects, a
 * circuit breaker, the key builder, scripts, SCAN, batches, pub/sub and health.
 */
import { EventEmitter } from 'node:events';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { type BatchOptions, getMany, type SetManyEntry, setMany } from './batch.js';
import { CircuitBreaker } from './breaker.js';
import { guardCommands } from './command-guard.js';
import { describeFailure, outcomeOf } from './connection-failure.js';
import { ConnectionState } from './connection-state.js';
import { publishDiagnostic } from './diagnostics.js';
import { mapRedisError } from './error-mapping.js';
import { ClientClosedError, type StratacacheError } from './errors.js';
import { checkHealth, type HealthReport } from './health.js';
import { KeyBuilder } from './keys.js';
import type { RedisClientOptions, ResolvedOptions } from './options.js';
import { PubSub } from './pubsub.js';
import { reconnectDelay } from './reconnect.js';
import { redactSecret } from './redact.js';
import { resolveOptions } from './resolve-options.js';
import { type ScanOptions, scanKeys, type UnlinkOptions, unlinkMatching } from './scan.js';
import { ScriptRegistry } from './script-registry.js';
import { type LuaScript, runScript, type ScriptArg } from './scripts.js';
import { guardSockets } from './stream-guard.js';

/** The ioredis client type underneath. */
export type RedisConnection = Redis | Cluster;

/**
 * A managed Redis client. `client` is the ioredis instance for any command;
 * the methods here add the breaker, error mapping and cluster-awareness.
 *
 * Events: `connection-error` (a redacted `StratacacheError`), `ready`, `close`.
 */
export class StrataRedis extends EventEmitter {
  /** Resolved options, with the password shown as `***` (safe to log). */
  readonly options: ResolvedOptions;
  /** The real password, kept out of `options` so logging them cannot leak it. */
  readonly #password: string | undefined;
  /** The ioredis client. */
  readonly client: RedisConnection;
  /** The circuit breaker, unless turned off with `breaker: false`. */
  readonly breaker: CircuitBreaker | undefined;
  private readonly duplicates = new Set<RedisConnection>();
  private readonly pubsubs = new Map<string, PubSub>();
  private subscriber: RedisConnection | undefined;
  private closing: Promise<void> | undefined;
  /** Address, stage and failures of the main connection, for error messages. */
  private readonly state: ConnectionState;
  /** Scripts loaded on every connection before its first command. */
  private readonly scripts: ScriptRegistry;

  constructor(options: RedisClientOptions = {}) {
    super();
    const resolved = resolveOptions(options);
    this.#password = resolved.password;
    this.options = Object.freeze({ ...resolved, password: resolved.password === undefined ? undefined : '***' });
    this.state = new ConnectionState(this.options, this.#password);
    this.scripts = new ScriptRegistry(this.options.connectionName);
    this.breaker = this.options.breaker
      ? new CircuitBreaker({ ...this.options.breaker, name: this.options.connectionName })
      : undefined;
    this.client = this.connect(this.options.connectionName);
  }

  /** `'standalone'`, `'sentinel'` or `'cluster'`. */
  get mode(): ResolvedOptions['mode'] {
    return this.options.mode;
  }

  /** ioredis connection status (`'ready'` when commands are sent at once). */
  get status(): string {
    return this.client.status;
  }

  /** A key builder for `namespace` under this client's prefix. */
  keys(namespace: string): KeyBuilder {
    return new KeyBuilder({ prefix: this.options.prefix, namespace, maxLength: this.options.maxKeyLength });
  }

  /**
   * Runs `fn` through the circuit breaker and maps what it throws to a
   * stratacache error (`command` names it in messages and events).
   *
   * @example
   * ```ts
   * const value = await redis.run('get', (c) => c.getBuffer(key));
   * ```
   */
  async run<T>(command: string, fn: (client: RedisConnection) => Promise<T>): Promise<T> {
    // A closed client fails on its own terms, before the breaker: it says nothing about Redis.
    if (this.closing) throw this.closedError(command);
    const attempt = async (): Promise<T> => {
      try {
        return await fn(this.client);
      } catch (error) {
        throw this.mapError(error, command);
      }
    };
    return this.breaker ? this.breaker.run(attempt) : attempt();
  }

  /** The address this client connects to, without credentials (`host:port`, `unix:/path`, ...). */
  get address(): string {
    return this.state.address;
  }

  /** Maps what a command threw to a stratacache error naming the address and the kind, and publishes it. */
  private mapError(error: unknown, command: string): StratacacheError {
    const mapped = mapRedisError(error, command, {
      password: this.#password,
      facts: this.state.facts(),
      tracked: true,
      closed: Boolean(this.closing),
    });
    publishDiagnostic('commandError', {
      client: this.options.connectionName,
      command,
      code: mapped.code,
      message: mapped.message,
    });
    return mapped;
  }

  private closedError(command: string): ClientClosedError {
    return new ClientClosedError(`${describeFailure('closed', this.state.facts())} ${outcomeOf(command, false)}`, {
      context: { command, address: this.state.address, kind: 'closed', sent: false },
    });
  }

  /**
   * Runs a Lua script (EVALSHA, EVAL on NOSCRIPT). The script is registered on
   * first use, so it is loaded ahead of this call and after every reconnect.
   */
  runScript(
    script: LuaScript,
    keys: readonly string[],
    args: readonly ScriptArg[] = [],
    options: { buffers?: boolean } = {},
  ): Promise<unknown> {
    if (!this.scripts.has(script)) this.scripts.register([script]);
    return this.run(`script ${script.name}`, (client) => runScript(client, script, keys, args, options));
  }

  /**
   * Registers scripts this client will run: each is sent with SCRIPT LOAD on
   * every connection (and every Cluster node) before its next command, and
   * again after a reconnect or failover, so the first EVALSHA finds it. Layers
   * call it at construction with the scripts they use.
   */
  registerScripts(scripts: Iterable<LuaScript>): void {
    this.scripts.register(scripts);
  }

  /** Batches of keys matching `pattern`, from every master. Build `pattern` with the key builder. */
  async *scan(pattern: string, options?: ScanOptions): AsyncGenerator<string[], void, undefined> {
    if (this.closing) throw this.closedError('scan');
    try {
      yield* scanKeys(this.client, pattern, options);
    } catch (error) {
      throw this.mapError(error, 'scan');
    }
  }

  /** UNLINKs every key matching `pattern`; returns how many were removed (or would be, with `dryRun`). */
  unlinkMatching(pattern: string, options?: UnlinkOptions): Promise<number> {
    return this.run('unlinkMatching', (client) => unlinkMatching(client, pattern, options));
  }

  /** Values of `keys` (Buffers, null for a miss), pipelined, chunked, grouped by slot on Cluster. */
  getMany(keys: readonly string[], options?: BatchOptions): Promise<(Buffer | null)[]> {
    return this.run('getMany', (client) => getMany(client, keys, options));
  }

  /** Sets many keys, each with its own TTL, pipelined, chunked, grouped by slot on Cluster. */
  setMany(entries: readonly SetManyEntry[], options?: BatchOptions): Promise<void> {
    return this.run('setMany', (client) => setMany(client, entries, options));
  }

  /**
   * Pub/sub for `namespace`. Every namespace shares one dedicated subscriber
   * connection, created on first use and closed with this client.
   */
  pubsub(namespace = 'events'): PubSub {
    this.assertOpen();
    let bus = this.pubsubs.get(namespace);
    if (!bus) {
      bus = new PubSub(
        this.client,
        () => this.subscriberConnection(),
        this.keys(namespace),
        this.options.connectionName,
      );
      this.pubsubs.set(namespace, bus);
    }
    return bus;
  }

  private subscriberConnection(): RedisConnection {
    this.subscriber ??= this.duplicate('subscriber', { autoResubscribe: false }, { shardedSubscribers: true });
    return this.subscriber;
  }

  /**
   * A new connection with the same settings (for blocking commands or a
   * subscriber), closed with this client.
   */
  duplicate(
    role = 'duplicate',
    overrides: Partial<RedisOptions> = {},
    clusterOverrides: Partial<ClusterOptions> = {},
  ): RedisConnection {
    this.assertOpen();
    const connection = this.connect(`${this.options.connectionName}:${role}`, overrides, clusterOverrides);
    this.duplicates.add(connection);
    connection.once('end', () => this.duplicates.delete(connection));
    return connection;
  }

  /**
   * PING latency, INFO facts and configuration warnings. Never throws: `ok` is
   * whether PING works; INFO a user may not run is listed under `unreadable`.
   */
  async health(): Promise<HealthReport> {
    const report = await checkHealth(this.client, this.options.mode, (error) =>
      this.closing ? this.closedError('health').message : this.mapError(error, 'ping').message,
    );
    for (const part of report.unreadable) part.reason = redactSecret(part.reason, this.#password);
    return report;
  }

  /**
   * Waits for in-flight commands, then QUITs this connection, its subscriber
   * and its duplicates. Idempotent: later calls return the same promise.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.pubsubs.values()].map((bus) => bus.close()));
      this.pubsubs.clear();
      const all = [this.client, ...this.duplicates];
      await Promise.all(all.map((c) => quit(c, this.options.commandTimeoutMs)));
      this.duplicates.clear();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw this.closedError('this call');
  }

  /** A description without secrets. */
  override toString(): string {
    const o = this.options;
    const where =
      o.mode === 'cluster'
        ? `cluster ${o.clusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}`
        : o.mode === 'sentinel'
          ? `sentinel ${o.sentinelName} via ${o.sentinels.map((n) => `${n.host}:${n.port}`).join(',')}`
          : o.socketPath
            ? `unix:${o.socketPath}`
            : `${o.tls ? 'rediss' : 'redis'}://${o.username ? `${o.username}:***@` : this.#password ? ':***@' : ''}${o.host}:${o.port}/${o.db}`;
    return `StrataRedis(${where}, prefix=${o.prefix}, status=${this.client.status})`;
  }

  /** Same as toString(), so console.log and util.inspect never show the password. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** JSON form without secrets. */
  toJSON(): Record<string, unknown> {
    return { client: this.toString() };
  }

  private connect(
    name: string,
    overrides: Partial<RedisOptions> = {},
    clusterOverrides: Partial<ClusterOptions> = {},
  ): RedisConnection {
    const o = this.options;
    const retryStrategy = (attempt: number): number => {
      const delayMs = reconnectDelay(attempt, o.reconnectBaseDelayMs, o.reconnectMaxDelayMs);
      publishDiagnostic('reconnect', { client: name, attempt, delayMs });
      return delayMs;
    };
    const common: RedisOptions = {
      username: o.username,
      password: this.#password,
      tls: o.tls as RedisOptions['tls'],
      connectTimeout: o.connectTimeoutMs,
      commandTimeout: o.commandTimeoutMs,
      maxRetriesPerRequest: o.maxRetriesPerRequest,
      enableOfflineQueue: true,
      connectionName: name,
      retryStrategy,
      // Connected below, once the socket guard is in place for the very first socket.
      lazyConnect: true,
      ...overrides,
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
        ...clusterOverrides,
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
      });
    } else {
      connection = new Redis({
        ...common,
        host: o.host,
        port: o.port,
        path: o.socketPath,
        db: o.db,
      });
    }
    // The breaker counts failed calls (in run()); connection events of the main
    // connection only close a half-open breaker once it is back. Duplicates and
    // the subscriber never drive it.
    const main = name === o.connectionName;
    guardCommands(connection, {
      maxOfflineQueue: o.maxOfflineQueue,
      name,
      timeoutMs: o.commandTimeoutMs,
      address: () => this.state.address,
      // A database index the server refused stops every connection of this client (they all SELECT it).
      fatal: () => this.state.fatal,
      // Scripts run on the main connection only (on Cluster: on its nodes, hooked below).
      beforeSend:
        main && !(connection as Cluster).isCluster ? () => this.scripts.beforeSend(connection as Redis) : undefined,
    });
    // A second error on a socket is only kept from crashing the process; the first reaches 'error' below.
    const onSocketError = () => {};
    const onSocket = main ? (stream: NodeJS.EventEmitter) => this.state.onSocket(stream) : undefined;
    if ((connection as Cluster).isCluster) {
      // Cluster creates one lazily connected client per node and announces it before its first connect.
      connection.on('+node', (node: Redis) => {
        guardSockets(node, onSocketError);
        if (main) loadScriptsFirst(node, this.scripts);
      });
    } else {
      guardSockets(connection as Redis, onSocketError, onSocket);
    }
    connection.on('error', (error: unknown) => {
      // The fatal error comes back once more through the ready check it failed: reported already.
      if (error === this.state.fatal) return;
      const failure = main ? this.state.onError(error, connection) : undefined;
      const mapped =
        failure ??
        mapRedisError(error, 'connection', { password: this.#password, facts: this.state.facts(), tracked: false });
      // Only when someone listens: an EventEmitter 'error' without listeners would throw.
      if (this.listenerCount('connection-error') > 0) this.emit('connection-error', mapped);
    });
    connection.on('ready', () => {
      if (main) {
        this.state.onReady();
        this.breaker?.recordSuccess();
      }
      publishDiagnostic('connect', { client: name, mode: o.mode });
      this.emit('ready', name);
    });
    connection.on('close', () => {
      if (main) this.state.onClose(connection.status);
      publishDiagnostic('close', { client: name });
      this.emit('close', name);
    });
    // Failures surface on 'error' (above) and on commands; the promise itself carries nothing more.
    connection.connect().catch(() => {});
    return connection;
  }
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

async function quit(connection: RedisConnection, timeoutMs: number): Promise<void> {
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

/**
 * Builds a managed client from `options` and the environment (REDIS_URL,
 * REDIS_HOST, ..., REDIS_SENTINELS, REDIS_CLUSTER_NODES, REDIS_NS). Throws a
 * `ConfigError` naming a bad option or variable.
 *
 * @example
 * ```ts
 * const redis = createRedis({ url: 'redis://127.0.0.1:6379', commandTimeout: '1s' });
 * const keys = redis.keys('app');
 * await redis.client.set(keys.key('user', 42), 'Ada');
 * await redis.close();
 * ```
 */
export function createRedis(options?: RedisClientOptions): StrataRedis {
  return new StrataRedis(options);
}
