/**
 * `createRedis`: a managed ioredis client (standalone, Sentinel or Cluster)
 * with fail-fast defaults, a bounded offline queue, jittered reconnects, a
 * circuit breaker, the key builder, scripts, SCAN, batches, pub/sub and health.
 */
import { EventEmitter } from 'node:events';
import type { ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { type BatchOptions, getMany, type SetManyEntry, setMany } from './batch.js';
import { CircuitBreaker } from './breaker.js';
import { currentBudget, sendWithin, TimeBudget, withinBudgetAcrossAwaits } from './budget.js';
import { check } from './check.js';
import { RedisClock, timeReplyToMs } from './clock.js';
import { ClusterBreaker } from './cluster-breakers.js';
import { ConnectionState, describeTarget } from './connection-state.js';
import { failOption } from './describe-value.js';
import type { Duration } from './duration.js';
import { checkHealth, type HealthReport } from './health.js';
import { KeyBuilder } from './keys.js';
import { luaScripts } from './lua.generated.js';
import { openConnection, quit, type RedisConnection } from './open-connection.js';
import type { RedisClientOptions, ResolvedOptions } from './options.js';
import { PubSub } from './pubsub.js';
import { redactSecret } from './redact.js';
import { resolveOptions } from './resolve-options.js';
import { CommandRunner, type RunCallback } from './run-command.js';
import { type ScanOptions, scanKeys, type UnlinkOptions, unlinkMatching } from './scan.js';
import { ScriptRegistry } from './script-registry.js';
import { type LuaScript, runScript, type ScriptArg } from './scripts.js';
import { watchSentinels } from './sentinel-watch.js';
import { waitOnKeyConnection } from './wait-replicas.js';

export type { RedisConnection } from './open-connection.js';

/** Options of `run` and the other calls of {@link StrataRedis}. */
export interface RunOptions {
  /**
   * A deadline shared with the other commands of the same call
   * (`redis.budget()`): every command inside waits at most what is left of it,
   * and a command it cannot cover is not sent. @default the budget of the
   * enclosing `withBudget`, if any
   */
  budget?: TimeBudget;
}

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
  /**
   * The circuit breaker, unless turned off with `breaker: false`. On Cluster
   * it summarises one breaker per node (`redis.breakers()`): a node's outage
   * fails fast only for the keys of that node, and this reads `open` only
   * while every master's breaker is open.
   */
  readonly breaker: CircuitBreaker | undefined;
  /** `run()`: the breaker, budgets and error mapping. */
  private readonly runner: CommandRunner;
  /** Stops following Sentinel's failover announcements. */
  private readonly unwatchSentinels: (() => void) | undefined;
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
    const breaker = this.options.breaker ? { ...this.options.breaker, name: this.options.connectionName } : undefined;
    this.breaker =
      breaker && (this.options.mode === 'cluster' ? new ClusterBreaker(breaker) : new CircuitBreaker(breaker));
    this.runner = new CommandRunner({
      name: this.options.connectionName,
      password: this.#password,
      state: this.state,
      // On Cluster the breakers are per node, consulted per command (cluster-breakers.ts).
      breaker: this.options.mode === 'cluster' ? undefined : this.breaker,
      closed: () => this.closing !== undefined,
    });
    this.clock = new RedisClock(() => this.serverTime());
    this.client = this.connect(this.options.connectionName);
    this.runner.client = this.client;
    this.unwatchSentinels =
      this.options.mode === 'sentinel'
        ? watchSentinels(this.options, () => [this.client, ...this.duplicates] as Redis[])
        : undefined;
    // On Cluster the clock reads TIME through a script: loaded with the others before first use.
    if (this.options.mode === 'cluster') this.registerScripts([luaScripts.serverTime]);
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
   * On Cluster each command `fn` sends passes the breaker of the node that
   * serves its key, so one shard's outage fails fast only for its keys.
   * With the breaker closed and nobody timing commands, a call adds no
   * `await` and one `.then` (for mapping errors) to what `fn` costs.
   *
   * Under a budget (`options.budget`, or an enclosing `withBudget`), the
   * commands `fn` sends before its first `await` are bounded by it; `fn`
   * receives the budget as its second argument for commands it sends later
   * (`sendWithin(budget, () => c.set(...))`). Without that they get the full
   * `commandTimeout`.
   *
   * @example
   * ```ts
   * const value = await redis.run('get', (c) => c.getBuffer(key));
   * ```
   */
  run<T>(command: string, fn: RunCallback<T>, options?: RunOptions): Promise<T> {
    return this.runner.run(command, fn, options?.budget);
  }

  /** The state of each Cluster node's breaker that has seen a failure (`host:port` to state); empty elsewhere. */
  breakers(): Record<string, 'closed' | 'open' | 'half-open'> {
    return this.breaker instanceof ClusterBreaker ? this.breaker.nodes() : {};
  }

  /**
   * A time budget for one call of several commands, `commandTimeout` by
   * default. Pass it to each `run`/`runScript` of the call (`{ budget }`), or
   * use {@link withBudget}.
   *
   * @example
   * ```ts
   * const budget = redis.budget();
   * const value = await redis.run('get', (c) => c.get(key), { budget });
   * await redis.run('set', (c) => c.set(other, value ?? ''), { budget }); // what the get left, at most
   * ```
   */
  budget(ms: Duration = this.options.commandTimeoutMs): TimeBudget {
    return new TimeBudget(check.positiveDuration(ms, 'budget'));
  }

  /**
   * Runs `fn` with one time budget (`commandTimeout` by default) for every
   * command it sends through this client, however deeply and across its
   * awaits: a call of several commands answers within one timeout, not one
   * per command.
   *
   * It carries the budget in an `AsyncLocalStorage`. On Node 20 the first one
   * entered in a process makes every later promise of the process slower
   * (about 2.5x per promise, measured in `bench/core-client/als-cost.mjs`), so
   * stratacache's own verbs never use it: they pass `{ budget }` (see
   * {@link budget}). Prefer that on hot paths; this is for convenience.
   */
  withBudget<T>(fn: () => Promise<T>, ms?: Duration): Promise<T> {
    return withinBudgetAcrossAwaits(this.budget(ms), fn);
  }

  /** The address this client connects to, without credentials (`host:port`, `unix:/path`, ...). */
  get address(): string {
    return this.state.address;
  }

  /**
   * Runs a Lua script (EVALSHA, EVAL on NOSCRIPT). The script is registered on
   * first use, so it is loaded ahead of this call and after every reconnect.
   */
  runScript(
    script: LuaScript,
    keys: readonly string[],
    args: readonly ScriptArg[] = [],
    options: { buffers?: boolean } & RunOptions = {},
  ): Promise<unknown> {
    if (!this.scripts.has(script)) this.scripts.register([script]);
    // EVALSHA, and EVAL after a NOSCRIPT: one budget for both.
    const budget = options.budget ?? currentBudget() ?? this.budget();
    return this.run(
      `script ${script.name}`,
      (client, within) => runScript(client, script, keys, args, options, within),
      {
        budget,
      },
    );
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

  /**
   * WAIT: resolves how many replicas acknowledged every write this client
   * sent so far on the connection that carries `key`'s writes (on Cluster,
   * the connection to the master serving its slot), waiting up to `timeout`
   * for `replicas` of them. Fewer than asked means a failover now could lose
   * those writes. WAIT holds that connection meanwhile: keep `timeout` short.
   *
   * @example
   * ```ts
   * await redis.run('set', (c) => c.set(key, value));
   * if ((await redis.waitForReplicas(key, 1, '100ms')) < 1) console.warn('not on a replica yet');
   * ```
   */
  waitForReplicas(key: string, replicas: number, timeout: Duration): Promise<number> {
    const count = check.nonNegativeInt(replicas, 'replicas');
    const ms = check.positiveDuration(timeout, 'timeout');
    if (ms >= this.options.commandTimeoutMs) {
      failOption(
        'timeout',
        `must be shorter than commandTimeout (${this.options.commandTimeoutMs} ms), which would end WAIT first`,
        timeout,
      );
    }
    return this.run('wait', (client) => waitOnKeyConnection(client, key, count, ms));
  }

  /** Batches of keys matching `pattern`, from every master. Build `pattern` with the key builder. */
  async *scan(pattern: string, options?: ScanOptions): AsyncGenerator<string[], void, undefined> {
    if (this.closing) throw this.runner.closedError('scan');
    try {
      yield* scanKeys(this.client, pattern, options);
    } catch (error) {
      throw this.runner.mapError(error, 'scan');
    }
  }

  /** UNLINKs every key matching `pattern`; returns how many were removed (or would be, with `dryRun`). */
  unlinkMatching(pattern: string, options?: UnlinkOptions & RunOptions): Promise<number> {
    return this.run('unlinkMatching', (client, budget) => unlinkMatching(client, pattern, options, budget), options);
  }

  /**
   * Values of `keys` (Buffers, null for a miss), pipelined, chunked, grouped by
   * slot on Cluster. The chunks go out at once, so the call waits one
   * `commandTimeout` at most (or its `budget`).
   */
  getMany(keys: readonly string[], options?: BatchOptions & RunOptions): Promise<(Buffer | null)[]> {
    return this.run('getMany', (client) => getMany(client, keys, options), options);
  }

  /** Sets many keys, each with its own TTL, pipelined, chunked, grouped by slot on Cluster; one timeout, as `getMany`. */
  setMany(entries: readonly SetManyEntry[], options?: BatchOptions & RunOptions): Promise<void> {
    return this.run('setMany', (client) => setMany(client, entries, options), options);
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
    // PING, then INFO of every master: one commandTimeout for both.
    const budget = this.budget();
    const report = await sendWithin(budget, () =>
      checkHealth(
        this.client,
        this.options.mode,
        (error) =>
          this.closing ? this.runner.closedError('health').message : this.runner.mapError(error, 'ping').message,
        budget,
      ),
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
      this.unwatchSentinels?.();
      await Promise.all([...this.pubsubs.values()].map((bus) => bus.close()));
      this.pubsubs.clear();
      const all = [this.client, ...this.duplicates];
      await Promise.all(all.map((c) => quit(c, this.options.commandTimeoutMs)));
      this.duplicates.clear();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw this.runner.closedError('this call');
  }

  private connect(
    name: string,
    overrides: Partial<RedisOptions> = {},
    clusterOverrides: Partial<ClusterOptions> = {},
  ): RedisConnection {
    return openConnection({
      options: this.options,
      password: this.#password,
      name,
      state: this.state,
      scripts: this.scripts,
      overrides,
      clusterOverrides,
      breakers: this.breaker instanceof ClusterBreaker ? this.breaker : undefined,
      // Only when someone listens: an EventEmitter 'error' without listeners would throw.
      onError: (error) => {
        if (this.listenerCount('connection-error') > 0) this.emit('connection-error', error);
      },
      onReady: (connectionName, main) => {
        // The main connection (re)connected: Redis is back, so the breaker closes now, not after its
        // open duration and a probe. On Cluster, each node's breaker closes with its node's connection.
        if (main) {
          this.breaker?.reset();
          // A reconnect may have reached another server (failover): sample its clock afresh.
          this.clock.sync(true).catch(() => {});
        }
        this.emit('ready', connectionName);
      },
      onClose: (connectionName) => this.emit('close', connectionName),
    });
  }

  /** A description without secrets. */
  override toString(): string {
    return `StrataRedis(${describeTarget(this.options, this.#password !== undefined)}, prefix=${this.options.prefix}, status=${this.client.status})`;
  }

  /** Same as toString(), so console.log and util.inspect never show the password. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** JSON form without secrets. */
  toJSON(): Record<string, unknown> {
    return { client: this.toString() };
  }
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
