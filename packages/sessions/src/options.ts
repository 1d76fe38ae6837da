/** Options of the session manager, resolved once into a frozen object; a bad one throws ConfigError naming it. */
import { ConfigError, check, type Duration, failOption, type StrataRedis } from '@stratacache/core-client';
import { json, type Serializer } from '@stratacache/serializers';
import type { IpBindingMode, IpBindingOptions } from './binding.js';
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
  /**
   * Most live sessions one user may have: a positive integer, or `Infinity`
   * (the same as leaving it unset) for no limit. `0` is refused: it would read
   * as "no sessions at all", which is never what a login wants.
   * @default Infinity (no limit)
   */
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
  /** `Infinity` when there is no limit. */
  readonly maxSessionsPerUser: number;
  readonly onLimit: LimitPolicy;
  readonly bindIp: Readonly<Required<IpBindingOptions>> | undefined;
  readonly bindUserAgent: 'enforce' | 'detect' | undefined;
  readonly keyRing: KeyRing | undefined;
  readonly serializer: Serializer;
}

function fail(option: string, requirement: string, got: unknown): never {
  return failOption(option, requirement, got);
}

function secretBuffer(value: unknown, option: string): Buffer {
  const buffer =
    typeof value === 'string' ? Buffer.from(value) : value instanceof Uint8Array ? Buffer.from(value) : undefined;
  // A secret is never shown: only its type or length.
  const refuse = (message: string): never => {
    throw new ConfigError(`${option} ${message}`, { context: { option } });
  };
  if (!buffer) return refuse(`must be a string or a Buffer; got a ${typeof value}`);
  if (buffer.length < 32) refuse(`must be at least 32 bytes; got ${buffer.length}`);
  return buffer;
}

function prefixLength(value: unknown, max: number, option: string): number {
  return check.intInRange(value, option, 0, max);
}

/** Resolves and checks the manager's options. */
export function resolveSessionOptions(options: SessionManagerOptions): ResolvedSessionOptions {
  if (!options || typeof options !== 'object')
    fail('options', 'must be an object with at least redis and secret', options);
  const redis = check.strataRedis(options.redis, 'redis');
  if (options.secret === undefined) fail('secret', 'is required (at least 32 bytes; a list to rotate)', undefined);
  const secretList = Array.isArray(options.secret) ? options.secret : [options.secret];
  if (secretList.length === 0) fail('secret', 'must list at least one secret', 'an empty list');
  const secrets = secretList.map((s, i) => secretBuffer(s, Array.isArray(options.secret) ? `secret[${i}]` : 'secret'));

  const namespace = check.namespace(options.namespace ?? 'sessions', 'namespace');
  const idleMs = check.positiveDuration(options.idleTimeout ?? '30m', 'idleTimeout');
  const absoluteMs = check.positiveDuration(options.absoluteTimeout ?? '8h', 'absoluteTimeout');
  if (idleMs > absoluteMs)
    fail('idleTimeout', `must not be longer than absoluteTimeout (${absoluteMs} ms)`, options.idleTimeout);

  const max = check.positiveInt(options.maxSessionsPerUser ?? Number.POSITIVE_INFINITY, 'maxSessionsPerUser', {
    unlimited: true,
  });
  const onLimit = check.oneOf(options.onLimit ?? 'evict-oldest', 'onLimit', ['reject', 'evict-oldest'] as const);

  let bindIp: Required<IpBindingOptions> | undefined;
  const rawBind = options.bindIp ?? false;
  if (rawBind !== false) {
    const spec: IpBindingOptions | null =
      rawBind === true ? { mode: 'exact' } : typeof rawBind === 'string' ? { mode: rawBind } : rawBind;
    if (!spec || typeof spec !== 'object' || !['exact', 'subnet', 'detect'].includes(spec.mode)) {
      fail('bindIp', "must be false, true, 'exact', 'subnet', 'detect' or { mode, ipv4Prefix, ipv6Prefix }", rawBind);
    }
    bindIp = Object.freeze({
      mode: spec.mode,
      ipv4Prefix: prefixLength(spec.ipv4Prefix ?? 24, 32, 'bindIp.ipv4Prefix'),
      ipv6Prefix: prefixLength(spec.ipv6Prefix ?? 64, 128, 'bindIp.ipv6Prefix'),
    });
  }
  const rawUa = check.oneOf(options.bindUserAgent ?? false, 'bindUserAgent', [true, false, 'detect'] as const);
  const serializer = check.serializer<Serializer>(options.serializer ?? json(), 'serializer');
  if (options.encryption !== undefined) check.object(options.encryption, 'encryption');
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
