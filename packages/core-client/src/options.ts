/**
 * Options of `createRedis`, their defaults, and their resolution (once) from
 * options and the environment (DESIGN.md, Environment). Explicit options win
 * over environment variables; environment variables over defaults.
 */
import type { Duration } from './duration.js';

/** TLS settings. Verification is on unless `rejectUnauthorized: false` is set explicitly. */
export interface TlsOptions {
  /** CA certificate(s) (PEM) to trust instead of the system store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate (PEM), for servers that require one. */
  cert?: string | Buffer;
  /** Client private key (PEM). */
  key?: string | Buffer;
  /** Server name to verify the certificate against. @default the host */
  servername?: string;
  /**
   * Verify the server certificate. Turn off only for local experiments.
   * @default true
   */
  rejectUnauthorized?: boolean;
}

/** A host and port (Sentinel or Cluster node). */
export interface HostPort {
  host: string;
  port: number;
}

/** Circuit breaker settings. */
export interface BreakerOptions {
  /** Failures within `window` that open the breaker. @default 5 */
  failureThreshold?: number;
  /** Window in which failures are counted. @default '10s' */
  window?: Duration;
  /** How long the breaker stays open before letting one probe through. @default '5s' */
  openDuration?: Duration;
}

/** Options of `createRedis`. All optional; see the README for the environment variables. */
export interface RedisClientOptions {
  /**
   * `redis://[user:pass@]host:port[/db]`, `rediss://...` (TLS) or `unix:///path/to.sock`.
   * @default process.env.REDIS_URL, else REDIS_HOST/REDIS_PORT..., else redis://127.0.0.1:6379
   */
  url?: string;
  /** Host. @default '127.0.0.1' (or REDIS_HOST) */
  host?: string;
  /** Port. @default 6379 (or REDIS_PORT) */
  port?: number;
  /** Unix socket path; wins over host and port. (REDIS_SOCKET_PATH) */
  socketPath?: string;
  /** ACL user name. (REDIS_USERNAME) */
  username?: string;
  /** Password. Never logged, never in errors or `toString()`. (REDIS_PASSWORD) */
  password?: string;
  /** Database index (standalone and Sentinel only). @default 0 (or REDIS_DB) */
  db?: number;
  /** TLS: `true` for system CAs, or settings. `rediss://` and REDIS_TLS=true turn it on. */
  tls?: boolean | TlsOptions;
  /** Sentinel nodes; with `sentinelName`, connects to the master they name. (REDIS_SENTINELS=host:port,host:port) */
  sentinels?: HostPort[];
  /** Name of the master group Sentinel monitors. (REDIS_SENTINEL_NAME) */
  sentinelName?: string;
  /** Cluster seed nodes; turns on Cluster mode. (REDIS_CLUSTER_NODES=host:port,host:port) */
  clusterNodes?: HostPort[];
  /** Key prefix of every key this client builds. @default 'strata' (or REDIS_NS) */
  prefix?: string;
  /** Longest key the key builder accepts, in bytes. @default 1024 */
  maxKeyLength?: number;
  /** How long to wait for a connection. @default '3s' */
  connectTimeout?: Duration;
  /**
   * How long a command may wait for its reply, including time queued while
   * disconnected. A timeout means the outcome is unknown, not that nothing happened.
   * @default '2s'
   */
  commandTimeout?: Duration;
  /** Commands queued while disconnected; more are rejected at once with a ConnectionError. @default 1000 */
  maxOfflineQueue?: number;
  /** Reconnect attempts a queued command waits through before it is rejected. @default 2 */
  maxRetriesPerRequest?: number;
  /** First reconnect delay; doubles each attempt, half of it jittered. @default '50ms' */
  reconnectBaseDelay?: Duration;
  /** Longest reconnect delay. @default '2s' */
  reconnectMaxDelay?: Duration;
  /** Circuit breaker settings, or `false` to turn it off. */
  breaker?: BreakerOptions | false;
  /** Name shown in CLIENT LIST and in diagnostics events. @default 'stratacache' */
  connectionName?: string;
  /** Environment to read variables from. @default process.env */
  env?: Record<string, string | undefined>;
}

/** How the client connects. */
export type ConnectionMode = 'standalone' | 'sentinel' | 'cluster';

/** Options after defaults and the environment were applied. */
export interface ResolvedOptions {
  mode: ConnectionMode;
  host: string;
  port: number;
  socketPath: string | undefined;
  username: string | undefined;
  password: string | undefined;
  db: number;
  tls: TlsOptions | undefined;
  sentinels: HostPort[];
  sentinelName: string | undefined;
  clusterNodes: HostPort[];
  prefix: string;
  maxKeyLength: number;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  maxOfflineQueue: number;
  maxRetriesPerRequest: number;
  reconnectBaseDelayMs: number;
  reconnectMaxDelayMs: number;
  breaker: { failureThreshold: number; windowMs: number; openDurationMs: number } | false;
  connectionName: string;
}

/** The defaults, in one place. */
export const DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 6379,
  db: 0,
  prefix: 'strata',
  maxKeyLength: 1024,
  connectTimeout: '3s',
  commandTimeout: '2s',
  maxOfflineQueue: 1000,
  maxRetriesPerRequest: 2,
  reconnectBaseDelay: '50ms',
  reconnectMaxDelay: '2s',
  breaker: Object.freeze({ failureThreshold: 5, window: '10s', openDuration: '5s' }),
  connectionName: 'stratacache',
});
