/** Options of the session manager, resolved once into a frozen object; a bad one throws ConfigError naming it. */
import { ConfigError, type Duration, type StrataRedis, toMs } from '@stratacache/core-client';
import { json, type Serializer } from '@stratacache/serializers';
import { type IpBindingMode, type IpBindingOptions, normalizeIp } from './binding.js';
import { type EncryptionOptions, KeyRing } from './crypto.js';

/** What happens when a user at `maxSessionsPerUser` logs in again. */
export type LimitPolicy = 'reject' | 'evict-oldest';

/** A secret for the id HMAC: a string or Buffer of at least 32 bytes. */
export type Secret = string | Uint8Array;

/** Options of {@link createSessionManager}. */
export interface SessionManagerOptions {
  /** The client from `createRedis()` of @stratacache/core-client. */
  redis: StrataRedis;
  /**
   * Key for the HMAC that turns an id into its Redis key: at least 32 bytes. A
   * list rotates: the first signs new sessions, every one is accepted for reads.
   * Required.
   * @example process.env.SESSION_SECRET
   */
  secret: Secret | readonly Secret[];
  /** Key namespace (and Cluster hash tag) of this manager. @default 'sessions' */
  namespace?: string;
  /** A session unused this long ends; every `get` (unless `touch: false`), `touch` and `update` slides it. @default '30m' */
  idleTimeout?: Duration;
  /** A session ends this long after it was created, however active; never moved. @default '8h' */
  absoluteTimeout?: Duration;
  /** Most live sessions one user may have; none when unset. */
  maxSessionsPerUser?: number;
  /** At the limit: refuse the new session, or destroy the least recently used one. @default 'evict-oldest' */
  onLimit?: LimitPolicy;
  /**
   * Bind a session to the address it was created from. `true` is `{ mode: 'exact' }`;
   * a string is `{ mode }`. Pass the client address you trust (behind a proxy,
   * Express's `req.ip` with `trust proxy` set), never a raw header.
   * @default false
   */
  bindIp?: boolean | IpBindingMode | IpBindingOptions;
  /** Bind a session to the user agent it was created with; `'detect'` only reports a mismatch. @default false */
  bindUserAgent?: boolean | 'detect';
  /** AES-256-GCM at rest, with key rotation. @default none (values are stored serialized, not encrypted) */
  encryption?: EncryptionOptions;
  /** How session data is turned into bytes. @default json() of @stratacache/serializers */
  serializer?: Serializer;
}

/** Options with every default applied. */
export interface ResolvedSessionOptions {
  readonly redis: StrataRedis;
  readonly secrets: readonly Buffer[];
  readonly namespace: string;
  readonly idleMs: number;
  readonly absoluteMs: number;
  readonly maxSessionsPerUser: number;
  readonly onLimit: LimitPolicy;
  readonly bindIp: Readonly<Required<IpBindingOptions>> | undefined;
  readonly bindUserAgent: 'enforce' | 'detect' | undefined;
  readonly keyRing: KeyRing | undefined;
  readonly serializer: Serializer;
}

function fail(option: string, message: string): never {
  throw new ConfigError(`${option} ${message}`, { context: { option } });
}

function secretBuffer(value: unknown, option: string): Buffer {
  const buffer =
    typeof value === 'string' ? Buffer.from(value) : value instanceof Uint8Array ? Buffer.from(value) : undefined;
  if (!buffer) fail(option, `must be a string or a Buffer; got ${typeof value}`);
  if (buffer.length < 32) fail(option, `must be at least 32 bytes; got ${buffer.length}`);
  return buffer;
}

function positiveMs(value: Duration, option: string): number {
  const ms = toMs(value, option);
  if (ms <= 0) fail(option, `must be more than 0 ms; got ${JSON.stringify(value)}`);
  return ms;
}

function prefixLength(value: unknown, max: number, option: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    fail(option, `must be an integer from 0 to ${max}; got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Resolves and checks the manager's options. */
export function resolveSessionOptions(options: SessionManagerOptions): ResolvedSessionOptions {
  if (!options || typeof options !== 'object') fail('options', 'must be an object with at least redis and secret');
  const { redis } = options;
  if (!redis || typeof redis.runScript !== 'function' || typeof redis.keys !== 'function') {
    fail('redis', 'must be a client from createRedis() of @stratacache/core-client');
  }
  if (options.secret === undefined) fail('secret', 'is required (at least 32 bytes; a list to rotate)');
  const secretList = Array.isArray(options.secret) ? options.secret : [options.secret];
  if (secretList.length === 0) fail('secret', 'must list at least one secret');
  const secrets = secretList.map((s, i) => secretBuffer(s, Array.isArray(options.secret) ? `secret[${i}]` : 'secret'));

  const namespace = options.namespace ?? 'sessions';
  if (typeof namespace !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(namespace)) {
    fail('namespace', `must be 1-64 letters, digits, _ or -; got ${JSON.stringify(namespace)}`);
  }
  const idleMs = positiveMs(options.idleTimeout ?? '30m', 'idleTimeout');
  const absoluteMs = positiveMs(options.absoluteTimeout ?? '8h', 'absoluteTimeout');
  if (idleMs > absoluteMs)
    fail('idleTimeout', `(${idleMs} ms) must not be longer than absoluteTimeout (${absoluteMs} ms)`);

  const max = options.maxSessionsPerUser ?? 0;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 0) {
    fail('maxSessionsPerUser', `must be a positive integer (or unset for no limit); got ${JSON.stringify(max)}`);
  }
  const onLimit = options.onLimit ?? 'evict-oldest';
  if (onLimit !== 'reject' && onLimit !== 'evict-oldest') {
    fail('onLimit', `must be 'reject' or 'evict-oldest'; got ${JSON.stringify(onLimit)}`);
  }

  let bindIp: Required<IpBindingOptions> | undefined;
  const rawBind = options.bindIp ?? false;
  if (rawBind !== false) {
    const spec: IpBindingOptions =
      rawBind === true ? { mode: 'exact' } : typeof rawBind === 'string' ? { mode: rawBind } : rawBind;
    if (!spec || !['exact', 'subnet', 'detect'].includes(spec.mode)) {
      fail(
        'bindIp',
        `must be false, true, 'exact', 'subnet', 'detect' or { mode, ipv4Prefix, ipv6Prefix }; got ${JSON.stringify(rawBind)}`,
      );
    }
    bindIp = Object.freeze({
      mode: spec.mode,
      ipv4Prefix: prefixLength(spec.ipv4Prefix ?? 24, 32, 'bindIp.ipv4Prefix'),
      ipv6Prefix: prefixLength(spec.ipv6Prefix ?? 64, 128, 'bindIp.ipv6Prefix'),
    });
  }
  const rawUa = options.bindUserAgent ?? false;
  if (rawUa !== false && rawUa !== true && rawUa !== 'detect') {
    fail('bindUserAgent', `must be true, false or 'detect'; got ${JSON.stringify(rawUa)}`);
  }
  const serializer = options.serializer ?? json();
  if (typeof serializer?.encode !== 'function' || typeof serializer.decode !== 'function') {
    fail('serializer', 'must be a Serializer of @stratacache/serializers (json(), msgpack())');
  }
  return Object.freeze({
    redis,
    secrets: Object.freeze(secrets),
    namespace,
    idleMs,
    absoluteMs,
    maxSessionsPerUser: max,
    onLimit,
    bindIp,
    bindUserAgent: rawUa === true ? 'enforce' : rawUa === 'detect' ? 'detect' : undefined,
    keyRing: options.encryption === undefined ? undefined : new KeyRing(options.encryption),
    serializer,
  });
}

/** Checks an address passed to create/get when IP binding is on. */
export function checkIp(ip: unknown, call: string): string {
  if (typeof ip !== 'string' || !normalizeIp(ip)) {
    fail(`${call}: options.ip`, `must be the client's IP address while bindIp is on; got ${JSON.stringify(ip)}`);
  }
  return normalizeIp(ip)?.address as string;
}
