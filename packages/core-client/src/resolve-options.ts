/** Resolves `createRedis` options once: defaults, then the environment, then explicit options. */
import { check } from './check.js';
import { failOption } from './describe-value.js';
import { ConfigError } from './errors.js';
import { DEFAULTS, type HostPort, type RedisClientOptions, type ResolvedOptions, type TlsOptions } from './options.js';
import { redactUrl } from './redact.js';

type Connection = Pick<ResolvedOptions, 'host' | 'port' | 'socketPath' | 'username' | 'password' | 'db' | 'tls'>;

function fail(source: string, requirement: string, got: unknown): never {
  return failOption(source, requirement, got);
}

function parsePort(value: unknown, source: string): number {
  const port = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    fail(source, 'must be an integer from 1 to 65535', value);
  }
  return port;
}

function parseDb(value: unknown, source: string): number {
  const db = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof db !== 'number' || !Number.isInteger(db) || db < 0) fail(source, 'must be a non-negative integer', value);
  return db;
}

function parseBool(value: string, source: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  return fail(source, "must be 'true' or 'false'", value);
}

/** Parses `host:port,host:port` lists (REDIS_SENTINELS, REDIS_CLUSTER_NODES). */
export function parseNodeList(value: string, source: string): HostPort[] {
  const nodes = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(part);
      if (!match)
        return fail(
          source,
          "must be a comma-separated list of host:port, such as '10.0.0.1:26379,10.0.0.2:26379'",
          value,
        );
      return { host: match[1] as string, port: parsePort(match[2], source) };
    });
  if (nodes.length === 0) fail(source, 'must name at least one host:port', value);
  return nodes;
}

/** Applies a `redis://`, `rediss://` or `unix://` URL onto `target`. */
function applyUrl(target: Connection, url: string, source: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    fail(
      source,
      "must be a URL such as 'redis://host:6379', 'rediss://host:6380' or 'unix:///run/redis.sock'",
      redactUrl(url),
    );
  }
  const shown = redactUrl(url);
  if (parsed.protocol === 'unix:') {
    if (!parsed.pathname) fail(source, 'must name a socket path', shown);
    target.socketPath = decodeURIComponent(parsed.pathname);
    target.tls = undefined;
  } else if (parsed.protocol === 'redis:' || parsed.protocol === 'rediss:') {
    // A TCP URL replaces a socket path that came from REDIS_SOCKET_PATH.
    target.socketPath = undefined;
    if (parsed.hostname) target.host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (parsed.port) target.port = parsePort(parsed.port, `${source} port`);
    const db = parsed.pathname.replace(/^\//, '');
    if (db) target.db = parseDb(db, `${source} database (the path)`);
    if (parsed.protocol === 'rediss:') target.tls = target.tls ?? {};
  } else {
    fail(source, "must start with 'redis://', 'rediss://' or 'unix://'", shown);
  }
  const decode = (part: string, what: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      return fail(source, `has a malformed percent-escape in its ${what}`, shown);
    }
  };
  if (parsed.username) target.username = decode(parsed.username, 'user name');
  if (parsed.password) target.password = decode(parsed.password, 'password');
  const dbParam = parsed.searchParams.get('db');
  if (dbParam !== null) target.db = parseDb(dbParam, `${source} ?db`);
}

function resolveTls(value: unknown): TlsOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  const tls = { ...check.object<TlsOptions>(value, 'tls') };
  if (tls.servername !== undefined) check.name(tls.servername, 'tls.servername');
  if (tls.rejectUnauthorized !== undefined) check.boolean(tls.rejectUnauthorized, 'tls.rejectUnauthorized');
  return tls;
}

/** An optional string option: absent, or a string (empty allowed only where `empty` says so). */
function optionalString(value: unknown, option: string, empty = false): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || (!empty && value.length === 0)) {
    fail(option, empty ? 'must be a string' : 'must be a non-empty string', value);
  }
  return value;
}

function nodeList(value: unknown, option: string): HostPort[] {
  if (!Array.isArray(value)) fail(option, 'must be an array of { host, port }', value);
  return value.map((node, i) => {
    if (typeof node !== 'object' || node === null) fail(`${option}[${i}]`, 'must be { host, port }', node);
    const { host, port } = node as HostPort;
    return { host: check.name(host, `${option}[${i}].host`), port: parsePort(port, `${option}[${i}].port`) };
  });
}

function checkPrefix(prefix: unknown, source: string): string {
  // The prefix is the first segment of every key and pattern: no separator, no glob, no hash tag.
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) {
    fail(source, 'must be 1-64 characters of letters, digits, _ . or - (no ":", glob characters or braces)', prefix);
  }
  return prefix;
}

/** CLIENT SETNAME refuses spaces, and ioredis ignores that refusal: the name would silently not be set. */
function checkConnectionName(value: unknown): string {
  if (typeof value !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(value)) {
    fail('connectionName', 'must be 1-128 printable ASCII characters without spaces (CLIENT SETNAME)', value);
  }
  return value;
}

/** Resolves options once. Throws a `ConfigError` naming the bad option or variable. */
export function resolveOptions(input: RedisClientOptions = {}): ResolvedOptions {
  const options = check.object<RedisClientOptions>(input, 'options');
  const env =
    options.env === undefined ? process.env : check.object<Record<string, string | undefined>>(options.env, 'env');
  const conn: Connection = {
    host: DEFAULTS.host,
    port: DEFAULTS.port,
    socketPath: undefined,
    username: undefined,
    password: undefined,
    db: DEFAULTS.db,
    tls: undefined,
  };

  if (options.url !== undefined) {
    applyUrl(conn, check.name(options.url, 'url'), 'url');
  } else {
    if (env.REDIS_HOST) conn.host = env.REDIS_HOST;
    if (env.REDIS_PORT) conn.port = parsePort(env.REDIS_PORT, 'REDIS_PORT');
    if (env.REDIS_DB) conn.db = parseDb(env.REDIS_DB, 'REDIS_DB');
    if (env.REDIS_USERNAME) conn.username = env.REDIS_USERNAME;
    if (env.REDIS_PASSWORD) conn.password = env.REDIS_PASSWORD;
    if (env.REDIS_SOCKET_PATH) conn.socketPath = env.REDIS_SOCKET_PATH;
    if (env.REDIS_TLS && parseBool(env.REDIS_TLS, 'REDIS_TLS')) conn.tls = {};
    if (env.REDIS_URL) applyUrl(conn, env.REDIS_URL, 'REDIS_URL');
  }

  // An explicit address replaces whatever address the environment gave.
  const explicitAddress =
    options.url !== undefined ||
    options.host !== undefined ||
    options.port !== undefined ||
    options.socketPath !== undefined;
  if (options.host !== undefined || options.port !== undefined) conn.socketPath = undefined;
  if (options.host !== undefined) conn.host = check.name(options.host, 'host');
  if (options.port !== undefined) conn.port = parsePort(options.port, 'port');
  if (options.socketPath !== undefined) conn.socketPath = check.name(options.socketPath, 'socketPath');
  if (options.username !== undefined) conn.username = optionalString(options.username, 'username');
  // Never echo a password: only its type is named.
  if (options.password !== undefined) {
    if (typeof options.password !== 'string') {
      throw new ConfigError(`password must be a string; got a ${typeof options.password} (not shown)`, {
        context: { option: 'password' },
      });
    }
    conn.password = options.password;
  }
  if (options.db !== undefined) conn.db = parseDb(options.db, 'db');
  if (options.tls !== undefined) conn.tls = resolveTls(options.tls);
  if (conn.tls && conn.tls.rejectUnauthorized === undefined) conn.tls.rejectUnauthorized = true;

  // Topology from the environment applies only when no address was given explicitly.
  const useEnvTopology = !explicitAddress;
  const clusterNodes =
    options.clusterNodes !== undefined
      ? nodeList(options.clusterNodes, 'clusterNodes')
      : useEnvTopology && env.REDIS_CLUSTER_NODES
        ? parseNodeList(env.REDIS_CLUSTER_NODES, 'REDIS_CLUSTER_NODES')
        : [];
  const sentinels =
    options.sentinels !== undefined
      ? nodeList(options.sentinels, 'sentinels')
      : useEnvTopology && env.REDIS_SENTINELS
        ? parseNodeList(env.REDIS_SENTINELS, 'REDIS_SENTINELS')
        : [];
  const sentinelName =
    options.sentinelName !== undefined
      ? check.name(options.sentinelName, 'sentinelName')
      : (env.REDIS_SENTINEL_NAME ?? undefined);
  if (clusterNodes.length > 0 && sentinels.length > 0) {
    fail('clusterNodes', 'cannot be combined with sentinels (REDIS_CLUSTER_NODES with REDIS_SENTINELS)', 'both set');
  }
  if (sentinels.length > 0 && !sentinelName) {
    fail(
      'sentinelName',
      '(REDIS_SENTINEL_NAME) is required with sentinels: the name of the monitored master group',
      sentinelName,
    );
  }
  if (clusterNodes.length > 0 && conn.db !== 0)
    fail('db', 'must be 0 on Redis Cluster, which has one database', conn.db);

  const mode = clusterNodes.length > 0 ? 'cluster' : sentinels.length > 0 ? 'sentinel' : 'standalone';
  const prefix = checkPrefix(
    options.prefix ?? env.REDIS_NS ?? DEFAULTS.prefix,
    options.prefix !== undefined ? 'prefix' : 'REDIS_NS',
  );

  const breakerInput =
    options.breaker === false
      ? false
      : { ...DEFAULTS.breaker, ...(options.breaker === undefined ? {} : check.object(options.breaker, 'breaker')) };
  const reconnectBaseDelayMs = check.positiveDuration(
    options.reconnectBaseDelay ?? DEFAULTS.reconnectBaseDelay,
    'reconnectBaseDelay',
  );
  const reconnectMaxDelayMs = check.positiveDuration(
    options.reconnectMaxDelay ?? DEFAULTS.reconnectMaxDelay,
    'reconnectMaxDelay',
  );
  if (reconnectMaxDelayMs < reconnectBaseDelayMs) {
    fail(
      'reconnectMaxDelay',
      `must not be shorter than reconnectBaseDelay (${reconnectBaseDelayMs} ms)`,
      options.reconnectMaxDelay,
    );
  }

  return Object.freeze({
    mode,
    ...conn,
    sentinels,
    sentinelName,
    clusterNodes,
    prefix,
    // Below 16 bytes not even the prefix and namespace fit.
    maxKeyLength: check.intInRange(
      options.maxKeyLength ?? DEFAULTS.maxKeyLength,
      'maxKeyLength',
      16,
      512 * 1024 * 1024,
    ),
    connectTimeoutMs: check.positiveDuration(options.connectTimeout ?? DEFAULTS.connectTimeout, 'connectTimeout'),
    commandTimeoutMs: check.positiveDuration(options.commandTimeout ?? DEFAULTS.commandTimeout, 'commandTimeout'),
    maxOfflineQueue: check.nonNegativeInt(options.maxOfflineQueue ?? DEFAULTS.maxOfflineQueue, 'maxOfflineQueue'),
    maxRetriesPerRequest: check.nonNegativeInt(
      options.maxRetriesPerRequest ?? DEFAULTS.maxRetriesPerRequest,
      'maxRetriesPerRequest',
    ),
    reconnectBaseDelayMs,
    reconnectMaxDelayMs,
    breaker:
      breakerInput === false
        ? false
        : {
            failureThreshold: check.positiveInt(breakerInput.failureThreshold, 'breaker.failureThreshold'),
            windowMs: check.positiveDuration(breakerInput.window, 'breaker.window'),
            openDurationMs: check.positiveDuration(breakerInput.openDuration, 'breaker.openDuration'),
          },
    connectionName: checkConnectionName(options.connectionName ?? DEFAULTS.connectionName),
  });
}
