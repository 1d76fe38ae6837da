/**
 * The console's options, resolved once from explicit options and the
 * environment into a frozen object. Bad values throw core-client's
 * `ConfigError` naming the option or variable. The Redis connection itself
 * is configured by core-client's variables (REDIS_URL, REDIS_NS, ...).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError, check, type Duration, toMs } from '@stratacache/core-client';
import { type ParsedHash, parsePasswordHash } from './password.js';

/** A sessions namespace the console shows, with the per-user limit the application configured (if known). */
export interface SessionNamespace {
  namespace: string;
  /** The application's `maxSessionsPerUser`: it lives in the application's code, not in Redis. */
  limit: number | undefined;
}

/**
 * What the console knows of a window series beyond Redis: its window size and
 * grace period live in the aggregator's code, not in Redis.
 */
export interface WindowSeriesSpec {
  /** The series' name (as given to the aggregator). */
  name: string;
  /** Window length, ms. */
  sizeMs: number;
  /** Grace period, ms: with it the view tells which windows are final. */
  graceMs: number | undefined;
}

/** Options of the console. All optional; each names the environment variable it defaults to. */
export interface AdminOptions {
  /** Interface to listen on. Another than loopback needs a password hash. @default '127.0.0.1' (ADMIN_HOST) */
  host?: string;
  /** TCP port; 0 picks a free one. @default 8420 (ADMIN_PORT) */
  port?: number;
  /** scrypt hash of the admin password (ADMIN_PASSWORD_HASH, or a file named by ADMIN_PASSWORD_HASH_FILE). */
  passwordHash?: string;
  /** scrypt hash of the read-only password, user `viewer` (ADMIN_READONLY_PASSWORD_HASH[_FILE]). */
  readonlyPasswordHash?: string;
  /** Secret signing the session cookie, 32+ characters. @default random per process (ADMIN_SESSION_SECRET) */
  sessionSecret?: string;
  /** Session idle timeout. @default '30m' (ADMIN_SESSION_IDLE) */
  sessionIdle?: Duration;
  /** Send cookies with `Secure`. @default false on a loopback interface, true otherwise (ADMIN_COOKIE_SECURE) */
  cookieSecure?: boolean;
  /** The origin browsers use, behind a proxy (`https://admin.example.com`): Origin and Host checks accept it (ADMIN_PUBLIC_ORIGIN). */
  publicOrigin?: string;
  /** Login attempts per client address per `loginWindow`. @default 5 (ADMIN_LOGIN_LIMIT) */
  loginLimit?: number;
  /** @default '1m' (ADMIN_LOGIN_WINDOW) */
  loginWindow?: Duration;
  /** Sessions namespaces to show, `name` or `name=limit`. @default [{ namespace: 'sessions' }] (ADMIN_SESSION_NAMESPACES=sessions,shop=3) */
  sessionNamespaces?: SessionNamespace[];
  /** Namespace of coordination's locks, claims, registry and heartbeats. @default 'coord' (ADMIN_COORD_NAMESPACE) */
  coordNamespace?: string;
  /** Namespace of coordination's rate limiters. @default 'ratelimit' (ADMIN_RATELIMIT_NAMESPACE) */
  ratelimitNamespace?: string;
  /** How often the overview samples INFO for its charts. @default '5s' (ADMIN_SAMPLE_INTERVAL) */
  sampleInterval?: Duration;
  /** Samples kept per chart. @default 720 (one hour at 5 s) */
  samplePoints?: number;
  /** Keys per page of the key browser. @default 50 */
  pageSize?: number;
  /** Most keys one bounded SCAN walk looks at per request (discovery views). @default 100000 */
  scanBudget?: number;
  /** Audit entries kept (XADD MAXLEN ~). @default 10000 */
  auditMaxLength?: number;
  /**
   * How long the tombstone of a Cache entry deleted from the console lives (the
   * Cache's own `tombstoneTtl`; a load that began longer ago is refused by the
   * Cache as too old anyway). @default '1m' (ADMIN_TOMBSTONE_TTL)
   */
  tombstoneTtl?: Duration;
  /**
   * Window series whose size and grace the console cannot read from Redis,
   * `name=size` or `name=size/grace`. Without it a series is taken as tumbling
   * windows (size = the distance between starts) and no window is called final.
   * @default [] (ADMIN_WINDOW_SERIES=orders-1m=1m/10s,clicks-5m=5m)
   */
  windowSeries?: WindowSeriesSpec[];
}

/** Options after defaults and the environment were applied. */
export interface ResolvedAdminOptions {
  host: string;
  port: number;
  loopback: boolean;
  passwordHash: ParsedHash | undefined;
  readonlyPasswordHash: ParsedHash | undefined;
  sessionSecret: string;
  /** True when the secret was generated: sessions end when the process does. */
  sessionSecretGenerated: boolean;
  sessionIdleMs: number;
  cookieSecure: boolean;
  publicOrigin: string | undefined;
  loginLimit: number;
  loginWindowMs: number;
  sessionNamespaces: readonly SessionNamespace[];
  coordNamespace: string;
  ratelimitNamespace: string;
  sampleIntervalMs: number;
  samplePoints: number;
  pageSize: number;
  scanBudget: number;
  auditMaxLength: number;
  tombstoneMs: number;
  windowSeries: readonly WindowSeriesSpec[];
}

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

function fromEnvOrFile(env: Record<string, string | undefined>, name: string): string | undefined {
  const direct = env[name];
  if (direct !== undefined && direct !== '') return direct;
  const file = env[`${name}_FILE`];
  if (file === undefined || file === '') return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`${name}_FILE names a file that cannot be read: ${(error as Error).message}`, {
      context: { option: `${name}_FILE` },
      cause: error,
    });
  }
}

function integer(value: unknown, option: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${option} must be an integer from ${min} to ${max}; got ${JSON.stringify(value)}`, {
      context: { option },
    });
  }
  return n;
}

function bool(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${option} must be true or false; got ${JSON.stringify(value)}`, { context: { option } });
}

const NAME = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})*$/;

function namespaceName(value: string, option: string): string {
  if (!NAME.test(value)) {
    throw new ConfigError(
      `${option} must be a key namespace (letters, digits, _ or -, nested with .); got ${JSON.stringify(value)}`,
      {
        context: { option },
      },
    );
  }
  return value;
}

/** Parses `sessions,shop=3` into namespaces with their limits. */
export function parseSessionNamespaces(text: string, option: string): SessionNamespace[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [name = '', limit] = part.split('=');
      return {
        namespace: namespaceName(name, option),
        limit: limit === undefined ? undefined : integer(limit, `${option} (limit of ${name})`, 1, 1_000_000, 0),
      };
    });
}

const SERIES = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses `orders-1m=1m/10s,clicks=5m` into window series with their size and grace. */
export function parseWindowSeries(text: string, option: string): WindowSeriesSpec[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [name = '', rest = ''] = part.split('=');
      const [size = '', grace] = rest.split('/');
      if (!SERIES.test(name) || size === '') {
        throw new ConfigError(
          `${option} must list series as name=size or name=size/grace (orders-1m=1m/10s); got ${JSON.stringify(part)}`,
          { context: { option } },
        );
      }
      return {
        name,
        sizeMs: check.positiveDuration(size, `${option} (size of ${name})`),
        graceMs: grace === undefined ? undefined : check.nonNegativeDuration(grace, `${option} (grace of ${name})`),
      };
    });
}

/**
 * Resolves the options once. Throws `ConfigError` for a bad value, and for a
 * non-loopback interface without a password hash: such a console would be
 * open to anyone who reaches the port (bull-board's lesson).
 */
export function resolveAdminOptions(
  options: AdminOptions = {},
  env: Record<string, string | undefined> = process.env,
): Readonly<ResolvedAdminOptions> {
  const host = options.host ?? (env.ADMIN_HOST || '127.0.0.1');
  const loopback = isLoopback(host);
  const rawHash = options.passwordHash ?? fromEnvOrFile(env, 'ADMIN_PASSWORD_HASH');
  const rawReadonly = options.readonlyPasswordHash ?? fromEnvOrFile(env, 'ADMIN_READONLY_PASSWORD_HASH');
  const passwordHash = rawHash === undefined ? undefined : parsePasswordHash(rawHash, 'ADMIN_PASSWORD_HASH');
  const readonlyPasswordHash =
    rawReadonly === undefined ? undefined : parsePasswordHash(rawReadonly, 'ADMIN_READONLY_PASSWORD_HASH');
  if (!loopback && passwordHash === undefined && readonlyPasswordHash === undefined) {
    throw new ConfigError(
      `Refusing to listen on ${host} without credentials: set ADMIN_PASSWORD_HASH (make one with \`pnpm --filter @stratacache/admin hash-password\`), or listen on 127.0.0.1.`,
      { context: { option: 'ADMIN_HOST' } },
    );
  }
  const secretInput = options.sessionSecret ?? fromEnvOrFile(env, 'ADMIN_SESSION_SECRET');
  if (secretInput !== undefined && secretInput.length < 32) {
    throw new ConfigError('ADMIN_SESSION_SECRET must be at least 32 characters', {
      context: { option: 'ADMIN_SESSION_SECRET' },
    });
  }
  const publicOrigin = options.publicOrigin ?? (env.ADMIN_PUBLIC_ORIGIN || undefined);
  if (publicOrigin !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(publicOrigin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== publicOrigin.replace(/\/$/, '')) {
      throw new ConfigError(
        `ADMIN_PUBLIC_ORIGIN must be an origin such as https://admin.example.com; got ${JSON.stringify(publicOrigin)}`,
        {
          context: { option: 'ADMIN_PUBLIC_ORIGIN' },
        },
      );
    }
  }
  const sessionNamespaces =
    options.sessionNamespaces ??
    parseSessionNamespaces(env.ADMIN_SESSION_NAMESPACES || 'sessions', 'ADMIN_SESSION_NAMESPACES');
  return Object.freeze({
    host,
    port: integer(options.port ?? env.ADMIN_PORT, 'ADMIN_PORT', 0, 65535, 8420),
    loopback,
    passwordHash,
    readonlyPasswordHash,
    sessionSecret: secretInput ?? randomBytes(32).toString('base64url'),
    sessionSecretGenerated: secretInput === undefined,
    sessionIdleMs: toMs(options.sessionIdle ?? (env.ADMIN_SESSION_IDLE || '30m'), 'ADMIN_SESSION_IDLE'),
    cookieSecure: bool(options.cookieSecure ?? env.ADMIN_COOKIE_SECURE, 'ADMIN_COOKIE_SECURE', !loopback),
    publicOrigin: publicOrigin?.replace(/\/$/, ''),
    loginLimit: integer(options.loginLimit ?? env.ADMIN_LOGIN_LIMIT, 'ADMIN_LOGIN_LIMIT', 1, 10_000, 5),
    loginWindowMs: toMs(options.loginWindow ?? (env.ADMIN_LOGIN_WINDOW || '1m'), 'ADMIN_LOGIN_WINDOW'),
    sessionNamespaces: Object.freeze(sessionNamespaces.map((s) => Object.freeze({ ...s }))),
    coordNamespace: namespaceName(
      options.coordNamespace ?? (env.ADMIN_COORD_NAMESPACE || 'coord'),
      'ADMIN_COORD_NAMESPACE',
    ),
    ratelimitNamespace: namespaceName(
      options.ratelimitNamespace ?? (env.ADMIN_RATELIMIT_NAMESPACE || 'ratelimit'),
      'ADMIN_RATELIMIT_NAMESPACE',
    ),
    sampleIntervalMs: Math.max(
      100,
      toMs(options.sampleInterval ?? (env.ADMIN_SAMPLE_INTERVAL || '5s'), 'ADMIN_SAMPLE_INTERVAL'),
    ),
    samplePoints: integer(options.samplePoints, 'samplePoints', 2, 100_000, 720),
    pageSize: integer(options.pageSize, 'pageSize', 1, 1000, 50),
    scanBudget: integer(options.scanBudget, 'scanBudget', 100, 100_000_000, 100_000),
    auditMaxLength: integer(options.auditMaxLength, 'auditMaxLength', 100, 10_000_000, 10_000),
    tombstoneMs: check.positiveDuration(
      options.tombstoneTtl ?? (env.ADMIN_TOMBSTONE_TTL || '1m'),
      'ADMIN_TOMBSTONE_TTL',
    ),
    windowSeries: Object.freeze(
      (options.windowSeries ?? parseWindowSeries(env.ADMIN_WINDOW_SERIES ?? '', 'ADMIN_WINDOW_SERIES')).map((s) =>
        Object.freeze({ ...s }),
      ),
    ),
  });
}
