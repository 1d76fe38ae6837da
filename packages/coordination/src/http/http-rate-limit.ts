/**
 * The framework-free part of the rate-limit middleware: options resolved once,
 * the key of a request, one decision, and the response headers and body it
 * implies. `express.ts` and `fastify.ts` only translate requests and replies.
 *
 * Headers: the IETF draft's `RateLimit-Policy` and `RateLimit` (structured
 * fields, draft-ietf-httpapi-ratelimit-headers 08 to 10), the widespread
 * `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds),
 * `Retry-After` (seconds) on a 429, and with `sourceHeader` who decided when
 * Redis did not.
 */
import { ConfigError, type StrataRedis, toMs } from '@stratacache/core-client';
import { createRateLimiter, type RateLimiter, type RateLimiterOptions, type RateLimitResult } from '../rate-limit.js';
import { addressKey, clientAddress, type TrustProxy, trustedProxies } from './client-ip.js';

/** The parts of a request the limiter reads (Express's and Fastify's requests have them). */
export interface HttpRequestLike {
  readonly method?: string | undefined;
  /** The path and query as received (`/search?q=x`). */
  readonly url?: string | undefined;
  /** The address the framework computed (follows its own trust-proxy setting). */
  readonly ip?: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly socket?: { readonly remoteAddress?: string | undefined } | undefined;
}

/**
 * `T`, but not inferred from where the result is used (TypeScript 5.4's `NoInfer`, spelled so
 * older compilers read it too): `app.get(path, { onRequest: rateLimit(...) })` would otherwise
 * infer the request type from the route's hook type and make it `never`.
 */
export type Uninferred<T> = [T][T extends unknown ? 0 : never];

/** How a request is keyed: by client address, by user (address when anonymous), or by your function. */
export type RateLimitKey<Req> = 'ip' | 'user' | ((req: Req) => string | undefined | Promise<string | undefined>);

/** What the 429 body function receives. */
export interface LimitedInfo<Req> {
  req: Req;
  result: RateLimitResult;
  /** The key the request was counted under (`ip:203.0.113.7`, `user:42`, or yours). */
  key: string;
  /** Seconds to wait, as sent in `Retry-After`. */
  retryAfterSeconds: number;
}

/** Options of the Express middleware and the Fastify hook: the limiter's own, plus the HTTP ones. */
export interface HttpRateLimitOptions<Req extends HttpRequestLike = HttpRequestLike> extends RateLimiterOptions {
  /**
   * What a request is counted under. `'ip'`: the client address (see `trustProxy`); `'user'`:
   * `user(req)`, or the address when it returns nothing; a function: its string, or the address
   * when it returns `undefined`.
   * @default 'ip'
   */
  key?: RateLimitKey<Req>;
  /**
   * The user id for `key: 'user'`.
   * @default reads `req.user.id` (Passport's convention), then `req.session.userId`
   */
  user?: (req: Req) => string | number | undefined | null;
  /**
   * Which proxies may set `X-Forwarded-For`. `false`: the framework's `req.ip` (Express's
   * `trust proxy` setting, Fastify's `trustProxy` option decide). A number: that many hops
   * in front of the app are proxies. A list: the proxies' addresses and CIDR ranges
   * (`['10.0.0.0/8', '2001:db8::/32']`). Never trust a header your own proxy does not overwrite.
   * @default false
   */
  trustProxy?: TrustProxy;
  /** IPv6 clients are counted per prefix of this many bits (a home or VM holds a whole /56 or /64). @default 56 */
  ipv6Subnet?: number;
  /** Units a request costs (a number, or per request). @default 1 */
  cost?: number | ((req: Req) => number);
  /** Requests that are not counted and get no headers (health checks, your own monitors). @default none */
  skip?: (req: Req) => boolean | Promise<boolean>;
  /** Send the IETF draft's `RateLimit` and `RateLimit-Policy` headers. @default true */
  standardHeaders?: boolean;
  /** Send `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds). @default true */
  legacyHeaders?: boolean;
  /**
   * A response header saying who decided when Redis did not: `onRedisDown`'s `'insurance'`,
   * `'fail-open'` or `'fail-closed'` (the result's `source`). Not sent on Redis's own decisions,
   * so its presence means the limit was not shared across instances for that request. A header
   * name (`'X-RateLimit-Source'`), or `false` for none.
   * @default false
   */
  sourceHeader?: string | false;
  /** The policy name in the IETF headers. @default the limiter's `name`, else `'default'` */
  policy?: string;
  /** HTTP status of a refusal. @default 429 */
  statusCode?: number;
  /** The JSON body of a refusal. @default `{ error: 'Too Many Requests', message, retryAfter }` */
  body?: (info: LimitedInfo<Req>) => unknown;
  /** Called on every refusal (logging, metrics); its errors are ignored. @default none */
  onLimited?: (info: LimitedInfo<Req>) => void;
}

/** Options once resolved (frozen). */
export interface ResolvedHttpRateLimit<Req extends HttpRequestLike> {
  readonly limiter: RateLimiter;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly key: RateLimitKey<Req>;
  readonly user: (req: Req) => string | number | undefined | null;
  readonly trust: false | number | ReturnType<typeof trustedProxies>;
  readonly ipv6Subnet: number;
  readonly cost: (req: Req) => number;
  readonly skip: ((req: Req) => boolean | Promise<boolean>) | undefined;
  readonly standardHeaders: boolean;
  readonly legacyHeaders: boolean;
  readonly sourceHeader: string | false;
  readonly policy: string;
  readonly statusCode: number;
  readonly body: (info: LimitedInfo<Req>) => unknown;
  readonly onLimited: ((info: LimitedInfo<Req>) => void) | undefined;
}

/** What the adapters apply: headers always, and for a refusal the status and body. */
export type HttpDecision =
  | { kind: 'skipped' }
  | { kind: 'allowed'; headers: [string, string][]; result: RateLimitResult; key: string }
  | {
      kind: 'limited';
      headers: [string, string][];
      result: RateLimitResult;
      key: string;
      status: number;
      body: unknown;
    };

const HTTP_ONLY = [
  'key',
  'user',
  'trustProxy',
  'ipv6Subnet',
  'cost',
  'skip',
  'standardHeaders',
  'legacyHeaders',
  'sourceHeader',
  'policy',
  'statusCode',
  'body',
  'onLimited',
] as const;

/** The headers the middleware sets itself (lower case): `sourceHeader` may not name one. */
const OWN_HEADERS = new Set([
  'ratelimit',
  'ratelimit-policy',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'retry-after',
]);

/** Resolves the options once: builds the limiter, checks every HTTP option (a `ConfigError` names it). */
export function resolveHttpRateLimit<Req extends HttpRequestLike>(
  redis: StrataRedis,
  options: HttpRateLimitOptions<Req>,
): ResolvedHttpRateLimit<Req> {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('rateLimit(redis, options) takes an options object');
  const limiterOptions: Record<string, unknown> = { ...options };
  for (const name of HTTP_ONLY) delete limiterOptions[name];
  const limiter = createRateLimiter(redis, limiterOptions as unknown as RateLimiterOptions);
  const key = options.key ?? 'ip';
  if (key !== 'ip' && key !== 'user' && typeof key !== 'function') {
    fail('key', "'ip', 'user' or a function", key);
  }
  const ipv6Subnet = options.ipv6Subnet ?? 56;
  if (!Number.isInteger(ipv6Subnet) || ipv6Subnet < 1 || ipv6Subnet > 128)
    fail('ipv6Subnet', 'an integer from 1 to 128', ipv6Subnet);
  const trust = resolveTrust(options.trustProxy ?? false);
  const cost = options.cost ?? 1;
  if (typeof cost !== 'function' && !(Number.isInteger(cost) && cost >= 1))
    fail('cost', 'a positive integer or a function', cost);
  const statusCode = options.statusCode ?? 429;
  if (!Number.isInteger(statusCode) || statusCode < 400 || statusCode > 599)
    fail('statusCode', 'a 4xx or 5xx status', statusCode);
  for (const name of ['user', 'skip', 'body', 'onLimited'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') fail(name, 'a function', options[name]);
  }
  const sourceHeader = options.sourceHeader ?? false;
  // An HTTP field name (RFC 9110 token); the headers the middleware sets itself would be overwritten.
  if (
    sourceHeader !== false &&
    (typeof sourceHeader !== 'string' ||
      !/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(sourceHeader) ||
      OWN_HEADERS.has(sourceHeader.toLowerCase()))
  ) {
    fail('sourceHeader', 'false or a header name other than the RateLimit and Retry-After headers', sourceHeader);
  }
  const policy = options.policy ?? options.name ?? 'default';
  if (typeof policy !== 'string' || !/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(policy)) {
    fail('policy', 'a name of 1-64 printable ASCII characters without quotes or backslashes', policy);
  }
  return Object.freeze({
    limiter,
    limit: options.limit,
    windowSeconds: Math.max(1, Math.ceil(toMs(options.window, 'window') / 1000)),
    key,
    user: options.user ?? defaultUser,
    trust,
    ipv6Subnet,
    cost: typeof cost === 'function' ? cost : () => cost,
    skip: options.skip,
    standardHeaders: options.standardHeaders ?? true,
    legacyHeaders: options.legacyHeaders ?? true,
    sourceHeader,
    policy,
    statusCode,
    body: options.body ?? defaultBody,
    onLimited: options.onLimited,
  });
}

/** Decides one request: skip, count it under its key, and build the headers (and the refusal). */
export async function decide<Req extends HttpRequestLike>(
  resolved: ResolvedHttpRateLimit<Req>,
  req: Req,
): Promise<HttpDecision> {
  if (resolved.skip && (await resolved.skip(req))) return { kind: 'skipped' };
  const key = await requestKey(resolved, req);
  const result = await resolved.limiter.limit(key, { cost: resolved.cost(req) });
  const headers = rateLimitHeaders(resolved, result);
  if (result.allowed) return { kind: 'allowed', headers, result, key };
  const retryAfterSeconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  headers.push(['Retry-After', String(retryAfterSeconds)]);
  const info: LimitedInfo<Req> = { req, result, key, retryAfterSeconds };
  try {
    resolved.onLimited?.(info);
  } catch {
    // A logging hook must not turn a 429 into a 500.
  }
  return { kind: 'limited', headers, result, key, status: resolved.statusCode, body: resolved.body(info) };
}

/** The headers of a decision. */
export function rateLimitHeaders<Req extends HttpRequestLike>(
  resolved: ResolvedHttpRateLimit<Req>,
  result: RateLimitResult,
): [string, string][] {
  const headers: [string, string][] = [];
  const resetSeconds = Math.max(0, Math.ceil(result.resetMs / 1000));
  const remaining = Math.max(0, result.remaining);
  if (resolved.standardHeaders) {
    headers.push(['RateLimit-Policy', `"${resolved.policy}";q=${result.limit};w=${resolved.windowSeconds}`]);
    headers.push(['RateLimit', `"${resolved.policy}";r=${remaining};t=${resetSeconds}`]);
  }
  if (resolved.legacyHeaders) {
    headers.push(['RateLimit-Limit', String(result.limit)]);
    headers.push(['RateLimit-Remaining', String(remaining)]);
    headers.push(['RateLimit-Reset', String(resetSeconds)]);
  }
  if (resolved.sourceHeader !== false && result.source !== 'redis')
    headers.push([resolved.sourceHeader, result.source]);
  return headers;
}

async function requestKey<Req extends HttpRequestLike>(
  resolved: ResolvedHttpRateLimit<Req>,
  req: Req,
): Promise<string> {
  if (typeof resolved.key === 'function') {
    const custom = await resolved.key(req);
    if (custom !== undefined) return custom;
  } else if (resolved.key === 'user') {
    const user = resolved.user(req);
    if (user !== undefined && user !== null && user !== '') return `user:${user}`;
  }
  const address = clientAddress(req.socket?.remoteAddress, req.headers['x-forwarded-for'], req.ip, resolved.trust);
  // No address at all (a closed socket): one shared bucket, never an unlimited request.
  return `ip:${address === undefined ? 'unknown' : addressKey(address, resolved.ipv6Subnet)}`;
}

function resolveTrust(trust: TrustProxy): ResolvedHttpRateLimit<HttpRequestLike>['trust'] {
  if (trust === false) return false;
  if (typeof trust === 'number') {
    if (!Number.isInteger(trust) || trust < 0) fail('trustProxy', 'false, a hop count or a list of addresses', trust);
    return trust;
  }
  if (!Array.isArray(trust)) fail('trustProxy', 'false, a hop count or a list of addresses', trust);
  try {
    return trustedProxies(trust);
  } catch (error) {
    throw new ConfigError(`trustProxy: ${(error as Error).message}`, { context: { option: 'trustProxy' } });
  }
}

function defaultUser(req: HttpRequestLike): string | number | undefined {
  const r = req as { user?: { id?: unknown }; session?: { userId?: unknown } };
  const id = r.user?.id ?? r.session?.userId;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}

function defaultBody(info: LimitedInfo<HttpRequestLike>): unknown {
  return {
    error: 'Too Many Requests',
    message: `Rate limit exceeded: retry in ${info.retryAfterSeconds} s.`,
    retryAfter: info.retryAfterSeconds,
  };
}

function fail(option: string, expected: string, value: unknown): never {
  const shown = typeof value === 'function' ? 'a function' : JSON.stringify(value);
  throw new ConfigError(`${option} must be ${expected}; got ${shown}`, { context: { option } });
}
