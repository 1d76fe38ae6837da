/**
 * `createRedis`: a managed ioredis client (standalone, Sentinel or Cluster)
 * with fail-fast defaults, a bounded offline queue, jittered reconnects, a
 * circuit breaker, the key builder, scripts, SCAN, batches, pub/sub and health.
 */
import { EventEmitter } from 'node:events';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { type BatchOptions, getMany, type SetManyEntry, setMany } from './batch.js';
import { CircuitBreaker } from './breaker.js';
import { RedisClock, timeReplyToMs } from './clock.js';
import { listeningTo, publishDiagnostic } from './diagnostics.js';
import { mapRedisError } from './error-mapping.js';
import { ConnectionError, type StratacacheError } from './errors.js';
import { checkHealth, type HealthReport } from './health.js';
import { KeyBuilder } from './keys.js';
import { luaScripts } from './lua.generated.js';
import { boundOfflineQueue } from './offline-queue.js';
import type { RedisClientOptions, ResolvedOptions } from './options.js';
import { PubSub } from './pubsub.js';
import { reconnectDelay } from './reconnect.js';
import { redactSecret } from './redact.js';
import { resolveOptions } from './resolve-options.js';
import { type ScanOptions, scanKeys, type UnlinkOptions, unlinkMatching } from './scan.js';
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
  /**
   * The Redis server's clock, estimated locally (see `RedisClock`): the one
   * clock every instance judges freshness and invalidations by. On Cluster it
   * is the clock of the node owning `{prefix}:core:clock:ref`'s slot.
   */
  readonly clock: RedisClock;
  private readonly duplicates = new Set<RedisConnection>();
  private readonly pubsubs = new Map<string, PubSub>();
  private subscriber: RedisConnection | undefined;
  private closing: Promise<void> | undefined;
  private lastConnectionError: StratacacheError | undefined;

  constructor(options: RedisClientOptions = {}) {
    super();
    const resolved = resolveOptions(options);
    this.#password = resolved.password;
    this.options = Object.freeze({ ...resolved, password: resolved.password === undefined ? undefined : '***' });
    this.breaker = this.options.breaker
      ? new CircuitBreaker({ ...this.options.breaker, name: this.options.connectionName })
      : undefined;
    this.clock = new RedisClock(() => this.serverTime());
    this.client = this.connect(this.options.connectionName);
  }

  /**
   * One `TIME` round trip, in ms; on Cluster always from the same node, through a keyed script.
   * Plumbing, not a user's command: it bypasses `run()` (no breaker vote, no command event).
   */
  private serverTime(): Promise<number> {
    if (this.options.mode !== 'cluster') return this.client.time().then(timeReplyToMs);
    const ref = this.keys('core').key('clock', 'ref');
    return runScript(this.client, luaScripts.serverTime, [ref]).then(timeReplyToMs);
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
    const attempt = async (): Promise<T> => {
      // Timed only while someone listens: no clock reads on the hot path otherwise.
      const started = listeningTo('command') ? performance.now() : -1;
      try {
        const result = await fn(this.client);
        if (started >= 0) this.timed(command, started, true);
        return result;
      } catch (error) {
        if (started >= 0) this.timed(command, started, false);
        let mapped = mapRedisError(error, command, this.#password);
        // "Unreachable" hides the real cause when the server refused our credentials.
        if (mapped.code === 'E_CONNECTION' && this.lastConnectionError?.code === 'E_CONFIG') {
          mapped = this.lastConnectionError;
        }
        publishDiagnostic('commandError', {
          client: this.options.connectionName,
          command,
          code: mapped.code,
          message: mapped.message,
        });
        throw mapped;
      }
    };
    return this.breaker ? this.breaker.run(attempt) : attempt();
  }

  private timed(command: string, started: number, ok: boolean): void {
    publishDiagnostic('command', {
      client: this.options.connectionName,
      command,
      durationMs: performance.now() - started,
      ok,
    });
  }

  /** Runs a Lua script (EVALSHA, EVAL on NOSCRIPT). */
  runScript(
    script: LuaScript,
    keys: readonly string[],
    args: readonly ScriptArg[] = [],
    options: { buffers?: boolean } = {},
  ): Promise<unknown> {
    return this.run(`script ${script.name}`, (client) => runScript(client, script, keys, args, options));
  }

  /** Batches of keys matching `pattern`, from every master. Build `pattern` with the key builder. */
  scan(pattern: string, options?: ScanOptions): AsyncGenerator<string[], void, undefined> {
    return scanKeys(this.client, pattern, options);
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

  /** PING latency, INFO facts and configuration warnings. Never throws. */
  async health(): Promise<HealthReport> {
    const report = await checkHealth(this.client, this.options.mode);
    if (report.error) report.error = redactSecret(report.error, this.#password);
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
    if (this.closing) throw new ConnectionError('This client is closed; create a new one with createRedis().');
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
    boundOfflineQueue(connection, o.maxOfflineQueue, name, o.commandTimeoutMs);
    const onSocketError = (error: unknown) => {
      this.lastConnectionError = mapRedisError(error, 'connection', this.#password);
    };
    if ((connection as Cluster).isCluster) {
      // Cluster creates one lazily connected client per node and announces it before its first connect.
      connection.on('+node', (node: Redis) => guardSockets(node, onSocketError));
    } else {
      guardSockets(connection as Redis, onSocketError);
    }
    // The breaker counts failed calls (in run()); connection events of the main
    // connection only close a half-open breaker once it is back. Duplicates and
    // the subscriber never drive it.
    const main = name === o.connectionName;
    connection.on('error', (error: unknown) => {
      const mapped = mapRedisError(error, 'connection', this.#password);
      if (main) this.lastConnectionError = mapped;
      // Only when someone listens: an EventEmitter 'error' without listeners would throw.
      if (this.listenerCount('connection-error') > 0) this.emit('connection-error', mapped);
    });
    connection.on('ready', () => {
      if (main) {
        this.lastConnectionError = undefined;
        this.breaker?.recordSuccess();
        // A reconnect may have reached another server (failover): sample its clock afresh.
        this.clock.sync(true).catch(() => {});
      }
      publishDiagnostic('connect', { client: name, mode: o.mode });
      this.emit('ready', name);
    });
    connection.on('close', () => {
      publishDiagnostic('close', { client: name });
      this.emit('close', name);
    });
    // Failures surface on 'error' (above) and on commands; the promise itself carries nothing more.
    connection.connect().catch(() => {});
    return connection;
  }
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
