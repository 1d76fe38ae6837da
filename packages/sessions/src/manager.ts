/**
 * The session manager. Every state change is one Lua script on the Redis
 * server's clock (lua/*.lua), so limits, expiry and analytics stay consistent
 * however many processes share the store. Ids never reach Redis: keys hold an
 * HMAC of the id. Data is envelope-serialized and, with `encryption`, sealed
 * with AES-256-GCM bound to the session's key.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ConfigError, ConsistencyError, type Duration, type KeyBuilder, toMs } from '@stratacache/core-client';
import { ipBindingMaterial, ipMatches, normalizeIp } from './binding.js';
import { isSealed, Tampered } from './crypto.js';
import { publish } from './diagnostics.js';
import { generateSessionId, hashUserAgent, hmacId, isWellFormedId } from './ids.js';
import { luaScripts } from './lua.generated.js';
import { type ResolvedSessionOptions, resolveSessionOptions, type SessionManagerOptions } from './options.js';

/** Why a session id did not yield a session. */
export type InvalidReason = 'expired' | 'ip-mismatch' | 'ua-mismatch' | 'unknown' | 'tampered';

/** A session id that did not yield a session, as data. */
export interface InvalidSession {
  readonly valid: false;
  readonly reason: InvalidReason;
}

/** A binding that did not match in `'detect'` mode: reported, not enforced. */
export type BindingWarning = 'ip-mismatch' | 'ua-mismatch';

/** Times of a session, in ms since the epoch, on the Redis server's clock. */
export interface SessionTimes {
  /** When it was created (kept by `regenerate`). */
  readonly createdAt: number;
  /** The last `get`, `touch`, `update` or save. */
  readonly lastSeenAt: number;
  /** When it ends unless used again: the idle timeout from `lastSeenAt`, capped by `absoluteExpiresAt`. */
  readonly expiresAt: number;
  /** When it ends however active it is. Never moves. */
  readonly absoluteExpiresAt: number;
}

/** A live session. */
export interface Session<T = unknown> extends SessionTimes {
  readonly valid: true;
  /** The session id (what the cookie carries). */
  readonly id: string;
  /** The user it belongs to; `null` for an anonymous session (express/fastify before login). */
  readonly userId: string | null;
  /** The application's data. */
  readonly data: T;
  /** The address it was created (or last regenerated) from, when one was given. */
  readonly ip: string | undefined;
  /** Bindings that did not match in `'detect'` mode. Empty when all matched or none is on. */
  readonly warnings: readonly BindingWarning[];
}

/** A session as `list()` shows it: a `ref` instead of the id, which the store does not know. */
export interface SessionInfo<T = unknown> extends SessionTimes {
  /** An opaque reference (the HMAC of the id), for `revoke(userId, ref)`. */
  readonly ref: string;
  readonly userId: string | null;
  readonly data: T;
  readonly ip: string | undefined;
}

/** What `create` returns: the new session, or a refusal by the per-user limit. */
export type CreateResult<T = unknown> =
  | { readonly created: true; readonly id: string; readonly session: Session<T>; readonly evicted: number }
  | { readonly created: false; readonly reason: 'limit'; readonly limit: number };

/** The request a session is created for or read by. */
export interface RequestContext {
  /** The client's address as you trust it (behind a proxy: the address your proxy reports). */
  ip?: string;
  /** The User-Agent header. */
  userAgent?: string;
}

/** Options of `get`. */
export interface GetOptions extends RequestContext {
  /** Slide the idle timeout (counts as activity). @default true */
  touch?: boolean;
}

/** Options of `regenerate`. */
export interface RegenerateOptions extends RequestContext {}

/** Options of `put`, the low-level save used by the express/fastify stores. */
export interface PutOptions {
  /** Idle timeout of this session (express: the cookie's maxAge), never past the absolute timeout. @default the manager's idleTimeout */
  idleTimeout?: Duration;
}

/** What `put` did. */
export type PutResult = 'saved' | 'created' | 'rejected' | 'refused';

/** Cross-instance analytics, from Redis. */
export interface SessionStats {
  /** Live sessions now. */
  readonly active: number;
  /** Live sessions used within `windowMs`. */
  readonly activeWithin: { readonly windowMs: number; readonly count: number };
  /** Sessions created since the namespace was cleared. */
  readonly created: number;
  /** Sessions ended by `destroy`, `destroyAllForUser` or `revoke`. */
  readonly destroyed: number;
  /** Sessions that ran out of time (counted when found). */
  readonly expired: number;
  /** Sessions destroyed by the per-user limit (`'evict-oldest'`). */
  readonly evicted: number;
  /** New sessions refused by the per-user limit (`'reject'`). */
  readonly rejected: number;
  /** Sessions given a new id. */
  readonly regenerated: number;
  /** Reads refused because the IP or user agent did not match (enforced bindings). */
  readonly bindingMismatches: number;
  /** How long ended sessions lived: count, sum and a cumulative histogram (`le` in ms, last is Infinity). */
  readonly durations: {
    readonly count: number;
    readonly sumMs: number;
    readonly averageMs: number;
    readonly buckets: readonly { readonly le: number; readonly count: number }[];
  };
}

/** Upper bounds of the duration histogram in the Lua scripts: 1m, 5m, 15m, 1h, 4h, 24h. */
const DURATION_BUCKETS = [60_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000] as const;

/** How long an id from `issueId()` may wait for its first `put`. */
const PENDING_TTL_MS = 10 * 60_000;
/** Most ids waiting for their first `put` (oldest dropped first). */
const PENDING_LIMIT = 10_000;
/** Optimistic-concurrency retries of `update` and `regenerate`. */
const CAS_ATTEMPTS = 10;

/** What is stored (serialized, then sealed when encryption is on). */
interface Payload {
  u: string | null;
  d: unknown;
  ip?: string;
  ua?: string;
}

type Read =
  | { status: 'unknown' | 'expired' | 'ip-mismatch' | 'ua-mismatch' }
  | {
      status: 'ok';
      secret: Buffer;
      member: string;
      key: string;
      value: Buffer;
      createdAt: number;
      absoluteExpiresAt: number;
      lastSeenAt: number;
      expiresAt: number;
      version: string;
    };

const str = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString() : String(v));
const num = (v: unknown): number => Number(str(v));

/** The session manager: see {@link createSessionManager}. */
export class SessionManager<T = unknown> {
  /** The resolved options (frozen). */
  readonly options: ResolvedSessionOptions;
  private readonly keys: KeyBuilder;
  private readonly tag;
  private readonly prefix: string;
  private readonly shared: readonly [exp: string, seen: string, born: string, stats: string];
  private readonly pending = new Map<string, number>();

  constructor(options: SessionManagerOptions) {
    this.options = resolveSessionOptions(options);
    this.keys = this.options.redis.keys(this.options.namespace);
    // Loaded on every connection before its first command, so the first request pays no NOSCRIPT.
    this.options.redis.registerScripts(Object.values(luaScripts));
    // One hash tag per manager: every script's keys share a Cluster slot.
    this.tag = this.keys.tag(this.options.namespace);
    this.prefix = this.keys.key('s', this.tag, '');
    this.shared = [
      this.keys.key('exp', this.tag),
      this.keys.key('seen', this.tag),
      this.keys.key('born', this.tag),
      this.keys.key('stats', this.tag),
    ];
  }

  /** The namespace of this manager's keys. */
  get namespace(): string {
    return this.options.namespace;
  }

  /** The Redis key of a session, given its member (HMAC of the id). */
  private sessionKey(member: string): string {
    return this.prefix + member;
  }

  /** The Redis key of a user's index: a SHA-256 of the user id, so keys never show user ids. */
  private indexKey(userId: string | null): string {
    return userId === null ? this.keys.key('u', this.tag, '-') : this.keys.hashed('u', this.tag, userId);
  }

  /**
   * Creates a session for `userId` (`null` for anonymous), applying the per-user
   * limit atomically: `{ created: false, reason: 'limit' }` when refused.
   *
   * @example
   * ```ts
   * const result = await sessions.create('user-42', { role: 'admin' }, { ip: req.ip, userAgent: req.get('user-agent') });
   * if (result.created) res.cookie('sid', result.id, { httpOnly: true, secure: true, sameSite: 'lax' });
   * ```
   */
  async create(userId: string | null, data: T, context: RequestContext = {}): Promise<CreateResult<T>> {
    checkUser(userId, 'create');
    const id = generateSessionId();
    const payload = this.payloadFor(userId, data, context, 'create');
    const reply = await this.save(
      id,
      this.options.secrets[0] as Buffer,
      'create',
      userId,
      payload,
      this.options.idleMs,
      '',
      true,
    );
    if (reply.status === 'rejected') {
      publish('rejected', { namespace: this.namespace, userId, limit: this.options.maxSessionsPerUser });
      return { created: false, reason: 'limit', limit: this.options.maxSessionsPerUser };
    }
    if (reply.status !== 'ok') {
      // 256 random bits collided, or a save raced with nothing that can exist: a fault, not an outcome.
      throw new ConsistencyError(`create: the new session could not be written (${reply.status})`);
    }
    publish('created', { namespace: this.namespace, userId });
    return {
      created: true,
      id,
      evicted: reply.evicted,
      session: {
        valid: true,
        id,
        userId,
        data,
        ip: payload.ip,
        warnings: [],
        createdAt: reply.createdAt,
        lastSeenAt: reply.lastSeenAt,
        expiresAt: reply.expiresAt,
        absoluteExpiresAt: reply.absoluteExpiresAt,
      },
    };
  }

  /**
   * The session of `id`, checked against its bindings, or why not. Slides the
   * idle timeout unless `touch: false`. A malformed id is `'unknown'` without a
   * Redis round trip; a value that fails authentication or decoding is `'tampered'`.
   */
  async get(id: string, options: GetOptions = {}): Promise<Session<T> | InvalidSession> {
    const { bindIp, bindUserAgent } = this.options;
    const enforceIp = bindIp !== undefined && bindIp.mode !== 'detect';
    if (bindIp && options.ip === undefined) {
      throw new ConfigError('get: options.ip is required while bindIp is on (pass the client address)', {
        context: { option: 'ip' },
      });
    }
    if (bindUserAgent && options.userAgent === undefined) {
      throw new ConfigError('get: options.userAgent is required while bindUserAgent is on (pass "" when absent)', {
        context: { option: 'userAgent' },
      });
    }
    const read = await this.read(id, {
      touch: options.touch ?? true,
      withValue: true,
      ipTag: enforceIp ? (secret) => this.ipTag(secret, options.ip as string) : undefined,
      uaTag: bindUserAgent === 'enforce' ? (secret) => this.uaTag(secret, options.userAgent as string) : undefined,
    });
    if (read.status !== 'ok') {
      if (read.status === 'ip-mismatch' || read.status === 'ua-mismatch') {
        publish('bindingMismatch', {
          namespace: this.namespace,
          kind: read.status === 'ip-mismatch' ? 'ip' : 'ua',
          enforced: true,
        });
      }
      return invalid(read.status);
    }
    const payload = this.open(read.value, read.key);
    if (!payload) return invalid('tampered');
    const warnings: BindingWarning[] = [];
    if (
      bindIp?.mode === 'detect' &&
      !(payload.ip !== undefined && ipMatches(payload.ip, options.ip as string, 'exact', 32, 128))
    ) {
      warnings.push('ip-mismatch');
    }
    if (bindUserAgent === 'detect' && payload.ua !== hashUserAgent(options.userAgent as string)) {
      warnings.push('ua-mismatch');
    }
    for (const warning of warnings) {
      publish('bindingMismatch', {
        namespace: this.namespace,
        userId: payload.u,
        kind: warning === 'ip-mismatch' ? 'ip' : 'ua',
        enforced: false,
      });
    }
    return this.session(id, read, payload, warnings);
  }

  /**
   * The session of `id` without touching it or checking bindings: for servers
   * and store adapters, not for requests.
   */
  async peek(id: string): Promise<Session<T> | InvalidSession> {
    const read = await this.read(id, { touch: false, withValue: true });
    if (read.status !== 'ok') return invalid(read.status);
    const payload = this.open(read.value, read.key);
    return payload ? this.session(id, read, payload, []) : invalid('tampered');
  }

  /**
   * Changes the data of a live session: a shallow merge of `patch` into object
   * data, or `patch(data)` for any data. Retries on concurrent writes
   * (compare-and-set on a write counter), so no update is lost. Slides the idle timeout.
   */
  async update(id: string, patch: Partial<T> | ((data: T) => T)): Promise<Session<T> | InvalidSession> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const read = await this.read(id, { touch: false, withValue: true });
      if (read.status !== 'ok') return invalid(read.status);
      const payload = this.open(read.value, read.key);
      if (!payload) return invalid('tampered');
      const data = payload.d as T;
      const next =
        typeof patch === 'function'
          ? (patch as (data: T) => T)(data)
          : ({ ...(data as object), ...(patch as object) } as T);
      const reply = await this.save(
        id,
        read.secret,
        'update',
        payload.u,
        { ...payload, d: next },
        0,
        read.version,
        false,
      );
      if (reply.status === 'conflict') continue;
      if (reply.status !== 'ok') return invalid(reply.status === 'expired' ? 'expired' : 'unknown');
      return {
        ...this.session(id, read, { ...payload, d: next }, []),
        lastSeenAt: reply.lastSeenAt,
        expiresAt: reply.expiresAt,
      };
    }
    throw new ConsistencyError(`update: the session kept changing under ${CAS_ATTEMPTS} attempts; retry later`);
  }

  /**
   * Slides the idle timeout of `id` (never past the absolute timeout). Resolves
   * the new times, or why there is no session.
   */
  async touch(id: string, options: PutOptions = {}): Promise<({ valid: true } & SessionTimes) | InvalidSession> {
    const idleMs = options.idleTimeout === undefined ? 0 : this.idle(options.idleTimeout, 'touch');
    const read = await this.read(id, { touch: true, withValue: false, idleMs });
    if (read.status !== 'ok') return invalid(read.status);
    const { createdAt, lastSeenAt, expiresAt, absoluteExpiresAt } = read;
    return { valid: true, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt };
  }

  /**
   * Moves a session to a new id with the same data, user and timeouts (the
   * absolute timeout does not move), and invalidates the old id, atomically.
   * Call it on login and on any privilege change (session fixation). With
   * `ip`/`userAgent`, the session is re-bound to them.
   */
  async regenerate(id: string, context: RegenerateOptions = {}): Promise<Session<T> | InvalidSession> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const read = await this.read(id, { touch: false, withValue: true });
      if (read.status !== 'ok') return invalid(read.status);
      const payload = this.open(read.value, read.key);
      if (!payload) return invalid('tampered');
      const next: Payload = { ...payload };
      if (context.ip !== undefined) next.ip = normalizeIp(context.ip)?.address ?? context.ip;
      if (context.userAgent !== undefined) next.ua = hashUserAgent(context.userAgent);
      const newId = generateSessionId();
      const secret = this.options.secrets[0] as Buffer;
      const newMember = hmacId(secret, newId);
      const newKey = this.sessionKey(newMember);
      // Tags are keyed by the secret that names the session, which may now be a newer one.
      const ipTag = next.ip !== undefined && this.options.bindIp ? this.ipTag(secret, next.ip) : '';
      const uaTag = next.ua !== undefined && this.options.bindUserAgent ? this.uaTagFromHash(secret, next.ua) : '';
      const reply = (await this.options.redis.runScript(
        luaScripts.sessionRename,
        [read.key, newKey, ...this.shared],
        [read.member, newMember, this.seal(next, newKey), read.version, ipTag ?? '', uaTag],
      )) as unknown[];
      const status = str(reply[0]);
      if (status === 'conflict' || status === 'exists') continue;
      if (status !== 'ok') return invalid(status === 'expired' ? 'expired' : 'unknown');
      publish('regenerated', { namespace: this.namespace, userId: payload.u });
      return {
        valid: true,
        id: newId,
        userId: payload.u,
        data: payload.d as T,
        ip: next.ip,
        warnings: [],
        createdAt: num(reply[1]),
        lastSeenAt: num(reply[2]),
        expiresAt: num(reply[3]),
        absoluteExpiresAt: num(reply[4]),
      };
    }
    throw new ConsistencyError(`regenerate: the session kept changing under ${CAS_ATTEMPTS} attempts; retry later`);
  }

  /** Destroys the session of `id` (logout). Resolves whether there was one. */
  async destroy(id: string): Promise<boolean> {
    if (!isWellFormedId(id)) return false;
    for (const secret of this.options.secrets) {
      const member = hmacId(secret, id);
      const done = await this.options.redis.runScript(
        luaScripts.sessionDestroy,
        [this.sessionKey(member), ...this.shared],
        [member, ''],
      );
      if (Number(done) === 1) {
        publish('destroyed', { namespace: this.namespace, count: 1 });
        return true;
      }
    }
    return false;
  }

  /** Destroys a session of `userId` by the `ref` that `list(userId)` gave ("log out that device"). */
  async revoke(userId: string, ref: string): Promise<boolean> {
    checkUser(userId, 'revoke');
    if (typeof ref !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(ref)) return false;
    const done = await this.options.redis.runScript(
      luaScripts.sessionDestroy,
      [this.sessionKey(ref), ...this.shared],
      [ref, this.indexKey(userId)],
    );
    if (Number(done) !== 1) return false;
    publish('destroyed', { namespace: this.namespace, userId, count: 1 });
    return true;
  }

  /** Destroys every session of `userId`, except the one of `except` (the current device). Resolves how many. */
  async destroyAllForUser(userId: string, options: { except?: string } = {}): Promise<number> {
    checkUser(userId, 'destroyAllForUser');
    const keep = isWellFormedId(options.except)
      ? this.options.secrets.map((s) => hmacId(s, options.except as string))
      : [];
    const [destroyed, expired] = (await this.options.redis.runScript(
      luaScripts.sessionDestroyUser,
      [this.indexKey(userId), ...this.shared],
      [this.prefix, keep.join(',')],
    )) as [number, number];
    this.noteExpired(expired);
    if (destroyed > 0) publish('destroyed', { namespace: this.namespace, userId, count: destroyed });
    return destroyed;
  }

  /** The live sessions of `userId`, most recently used first; cleans the user's index of ended ones. */
  async list(userId: string): Promise<SessionInfo<T>[]> {
    checkUser(userId, 'list');
    const reply = (await this.options.redis.runScript(
      luaScripts.sessionList,
      [this.indexKey(userId), ...this.shared],
      [this.prefix, '1'],
      { buffers: true },
    )) as [number, ...Buffer[][]];
    this.noteExpired(Number(reply[0]));
    const out: SessionInfo<T>[] = [];
    for (const [m, v, c, a, l, at] of reply.slice(1) as Buffer[][]) {
      const ref = str(m);
      const payload = this.open(v as Buffer, this.sessionKey(ref));
      if (!payload) continue;
      out.push({
        ref,
        userId: payload.u,
        data: payload.d as T,
        ip: payload.ip,
        createdAt: num(c),
        absoluteExpiresAt: num(a),
        lastSeenAt: num(l),
        expiresAt: num(at),
      });
    }
    return out.sort((x, y) => y.lastSeenAt - x.lastSeenAt);
  }

  /** How many live sessions `userId` has; cleans the user's index of ended ones. */
  async count(userId: string): Promise<number> {
    checkUser(userId, 'count');
    const reply = (await this.options.redis.runScript(
      luaScripts.sessionList,
      [this.indexKey(userId), ...this.shared],
      [this.prefix, '0'],
    )) as [number, ...unknown[]];
    this.noteExpired(Number(reply[0]));
    return reply.length - 1;
  }

  /**
   * Cross-instance analytics from Redis: live sessions, sessions used within
   * `activeWithin`, lifetime counters and session durations. Sweeps (and
   * counts) up to 1000 sessions that expired unnoticed first.
   */
  async stats(options: { activeWithin?: Duration } = {}): Promise<SessionStats> {
    const windowMs = toMs(options.activeWithin ?? '5m', 'activeWithin');
    const [active, recent, expiredNow, flat] = (await this.options.redis.runScript(
      luaScripts.sessionStats,
      this.shared,
      [this.prefix, windowMs, 1000],
    )) as [number, number, number, string[]];
    this.noteExpired(expiredNow);
    const counters = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) counters.set(flat[i] as string, Number(flat[i + 1]));
    const get = (name: string) => counters.get(name) ?? 0;
    let cumulative = 0;
    const buckets = [...DURATION_BUCKETS, Number.POSITIVE_INFINITY].map((le) => {
      cumulative += get(`dur_le_${le === Number.POSITIVE_INFINITY ? 'inf' : le}`);
      return { le, count: cumulative };
    });
    const count = get('dur_count');
    return {
      active,
      activeWithin: { windowMs, count: recent },
      created: get('created'),
      destroyed: get('destroyed'),
      expired: get('expired'),
      evicted: get('evicted'),
      rejected: get('rejected'),
      regenerated: get('regenerated'),
      bindingMismatches: get('binding_mismatch'),
      durations: { count, sumMs: get('dur_sum'), averageMs: count === 0 ? 0 : get('dur_sum') / count, buckets },
    };
  }

  /**
   * A new session id, remembered by this process for 10 minutes so that a
   * first `put` may create a session under it. For express-session's `genid`
   * and @fastify/session's `idGenerator`; `create` needs none.
   */
  issueId(): string {
    const now = Date.now();
    for (const [id, at] of this.pending) {
      if (at > now && this.pending.size < PENDING_LIMIT) break;
      this.pending.delete(id); // oldest first: expired ones, and any over the limit
    }
    const id = generateSessionId();
    this.pending.set(id, now + PENDING_TTL_MS);
    return id;
  }

  /**
   * The low-level save of the store adapters: replaces the data of the session
   * `id`, or creates it when `id` came from this process's `issueId()` and has
   * not been used yet. Anything else (an id never issued, a session that ended)
   * is `'refused'` and nothing is written. A change of user applies the
   * per-user limit (`'rejected'`). The absolute timeout never moves.
   */
  async put(id: string, userId: string | null, data: T, options: PutOptions = {}): Promise<PutResult> {
    checkUser(userId, 'put');
    if (!isWellFormedId(id)) return this.refused('malformed-id');
    const idleMs = options.idleTimeout === undefined ? this.options.idleMs : this.idle(options.idleTimeout, 'put');
    const issued = (this.pending.get(id) ?? 0) > Date.now();
    const payload: Payload = { u: userId, d: data };
    for (const [i, secret] of this.options.secrets.entries()) {
      // A new session is only ever created under the current secret.
      const mode = issued && i === 0 ? 'upsert' : 'update';
      const reply = await this.save(id, secret, mode, userId, payload, idleMs, '', i === 0);
      if (reply.status === 'unknown') continue;
      if (reply.status === 'expired') return this.refused('ended');
      if (reply.status === 'rejected') {
        publish('rejected', { namespace: this.namespace, userId, limit: this.options.maxSessionsPerUser });
        return 'rejected';
      }
      if (reply.status !== 'ok') return this.refused(reply.status);
      if (issued) {
        this.pending.delete(id);
        if (reply.created) {
          publish('created', { namespace: this.namespace, userId });
          return 'created';
        }
      }
      return 'saved';
    }
    return this.refused('not-issued');
  }

  /** Every live session's data (for express-session's `all`). Reads in batches; skips values that fail authentication. */
  async all(): Promise<{ userId: string | null; data: T }[]> {
    const redis = this.options.redis;
    const [exp] = this.shared;
    const members = (await redis.run('zrangebyscore', (c) =>
      c.zrangebyscore(exp, `(${Date.now()}`, '+inf'),
    )) as string[];
    const out: { userId: string | null; data: T }[] = [];
    for (let i = 0; i < members.length; i += 200) {
      const chunk = members.slice(i, i + 200);
      const values = (await redis.run('hget', (c) => {
        const pipeline = c.pipeline();
        for (const m of chunk) pipeline.hgetBuffer(this.sessionKey(m), 'v');
        return pipeline.exec();
      })) as [Error | null, Buffer | null][];
      values.forEach(([error, value], j) => {
        if (error || !value) return;
        const payload = this.open(value, this.sessionKey(chunk[j] as string));
        if (payload) out.push({ userId: payload.u, data: payload.d as T });
      });
    }
    return out;
  }

  /** Removes every key of this manager's namespace: sessions, indexes and counters. Resolves how many keys. */
  clear(): Promise<number> {
    return this.options.redis.unlinkMatching(this.keys.all());
  }

  // ---- internals ----

  private idle(value: Duration, call: string): number {
    const ms = toMs(value, `${call}: idleTimeout`);
    if (ms <= 0)
      throw new ConfigError(`${call}: idleTimeout must be more than 0 ms`, { context: { option: 'idleTimeout' } });
    return ms;
  }

  private refused(reason: string): 'refused' {
    publish('refused', { namespace: this.namespace, reason });
    return 'refused';
  }

  private noteExpired(count: number): void {
    if (count > 0) publish('expired', { namespace: this.namespace, count });
  }

  private ipTag(secret: Buffer, ip: string): string {
    const { ipv4Prefix, ipv6Prefix, mode } = this.options.bindIp ?? { ipv4Prefix: 32, ipv6Prefix: 128, mode: 'exact' };
    const material = mode === 'subnet' ? ipBindingMaterial(ip, ipv4Prefix, ipv6Prefix) : ipBindingMaterial(ip, 32, 128);
    // Not an address: a random tag, which matches nothing (not even the same junk string again).
    if (material === undefined) return randomBytes(32).toString('base64url');
    return createHmac('sha256', secret).update(`ip\0${material}`).digest('base64url');
  }

  private uaTag(secret: Buffer, userAgent: string): string {
    return this.uaTagFromHash(secret, hashUserAgent(userAgent));
  }

  private uaTagFromHash(secret: Buffer, uaHash: string): string {
    return createHmac('sha256', secret).update(`ua\0${uaHash}`).digest('base64url');
  }

  private payloadFor(userId: string | null, data: T, context: RequestContext, call: string): Payload {
    const payload: Payload = { u: userId, d: data };
    if (this.options.bindIp && context.ip === undefined) {
      throw new ConfigError(`${call}: options.ip is required while bindIp is on (pass the client address)`, {
        context: { option: 'ip' },
      });
    }
    if (this.options.bindUserAgent && context.userAgent === undefined) {
      throw new ConfigError(`${call}: options.userAgent is required while bindUserAgent is on (pass "" when absent)`, {
        context: { option: 'userAgent' },
      });
    }
    if (context.ip !== undefined) payload.ip = normalizeIp(context.ip)?.address ?? context.ip;
    if (context.userAgent !== undefined) payload.ua = hashUserAgent(context.userAgent);
    return payload;
  }

  private seal(payload: Payload, key: string): Buffer {
    const bytes = this.options.serializer.encode(payload);
    return this.options.keyRing ? this.options.keyRing.seal(bytes, key) : bytes;
  }

  /** The payload of a stored value, or undefined (and a `tampered` event) when it does not authenticate or decode. */
  private open(value: Buffer, key: string): Payload | undefined {
    try {
      let bytes = value;
      if (this.options.keyRing) bytes = this.options.keyRing.open(value, key);
      else if (isSealed(value)) throw new Tampered('the value is encrypted but no encryption keys are configured');
      const payload = this.options.serializer.decode(bytes) as Payload;
      if (typeof payload !== 'object' || payload === null || !('u' in payload) || !('d' in payload)) {
        throw new Tampered('the value is not a session');
      }
      return payload;
    } catch (error) {
      publish('tampered', { namespace: this.namespace, cause: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }

  private session(id: string, read: Read & { status: 'ok' }, payload: Payload, warnings: BindingWarning[]): Session<T> {
    return {
      valid: true,
      id,
      userId: payload.u,
      data: payload.d as T,
      ip: payload.ip,
      warnings,
      createdAt: read.createdAt,
      lastSeenAt: read.lastSeenAt,
      expiresAt: read.expiresAt,
      absoluteExpiresAt: read.absoluteExpiresAt,
    };
  }

  /** Finds `id` under each secret in turn (rotation) and reads it. */
  private async read(
    id: string,
    options: {
      touch: boolean;
      withValue: boolean;
      idleMs?: number;
      ipTag?: ((secret: Buffer) => string) | undefined;
      uaTag?: ((secret: Buffer) => string) | undefined;
    },
  ): Promise<Read> {
    if (!isWellFormedId(id)) return { status: 'unknown' };
    for (const secret of this.options.secrets) {
      const member = hmacId(secret, id);
      const key = this.sessionKey(member);
      const reply = (await this.options.redis.runScript(
        luaScripts.sessionRead,
        [key, ...this.shared],
        [
          member,
          options.touch ? '1' : '0',
          options.withValue ? '1' : '0',
          options.idleMs ?? 0,
          options.ipTag?.(secret) ?? '',
          options.uaTag?.(secret) ?? '',
        ],
        { buffers: true },
      )) as Buffer[];
      const status = str(reply[0]);
      if (status === 'unknown') continue;
      if (status === 'expired') this.noteExpired(1);
      if (status !== 'ok') return { status: status as 'expired' | 'ip-mismatch' | 'ua-mismatch' };
      return {
        status: 'ok',
        secret,
        member,
        key,
        value: reply[1] as Buffer,
        createdAt: num(reply[2]),
        absoluteExpiresAt: num(reply[3]),
        lastSeenAt: num(reply[4]),
        expiresAt: num(reply[5]),
        version: str(reply[6]),
      };
    }
    return { status: 'unknown' };
  }

  /** Runs the save script for `id` under `secret`. */
  private async save(
    id: string,
    secret: Buffer,
    mode: 'create' | 'upsert' | 'update',
    userId: string | null,
    payload: Payload,
    idleMs: number,
    version: string,
    tagNew: boolean,
  ): Promise<
    | {
        status: 'ok';
        created: boolean;
        createdAt: number;
        lastSeenAt: number;
        expiresAt: number;
        absoluteExpiresAt: number;
        evicted: number;
      }
    | { status: 'rejected' | 'exists' | 'unknown' | 'expired' | 'conflict' }
  > {
    const member = hmacId(secret, id);
    const key = this.sessionKey(member);
    const o = this.options;
    const ipTag = tagNew && payload.ip !== undefined && o.bindIp ? this.ipTag(secret, payload.ip) : '';
    const uaTag = tagNew && payload.ua !== undefined && o.bindUserAgent ? this.uaTagFromHash(secret, payload.ua) : '';
    const reply = (await o.redis.runScript(
      luaScripts.sessionSave,
      [key, this.indexKey(userId), ...this.shared],
      [
        this.prefix,
        member,
        mode,
        this.seal(payload, key),
        idleMs,
        o.absoluteMs,
        // The script reads 0 as "no limit".
        Number.isFinite(o.maxSessionsPerUser) ? o.maxSessionsPerUser : 0,
        o.onLimit,
        userId === null ? '1' : '0',
        version,
        ipTag,
        uaTag,
      ],
    )) as unknown[];
    const status = str(reply[0]);
    if (status === 'rejected') {
      this.noteExpired(Number(reply[1]));
      return { status };
    }
    if (status !== 'ok') {
      if (status === 'expired') this.noteExpired(1);
      return { status: status as 'exists' | 'unknown' | 'expired' | 'conflict' };
    }
    const evicted = Number(reply[5]);
    this.noteExpired(Number(reply[6]));
    if (evicted > 0) publish('evicted', { namespace: this.namespace, userId, count: evicted });
    return {
      status: 'ok',
      created: Number(reply[7]) === 1,
      createdAt: num(reply[1]),
      lastSeenAt: num(reply[2]),
      expiresAt: num(reply[3]),
      absoluteExpiresAt: num(reply[4]),
      evicted,
    };
  }
}

function invalid(reason: InvalidReason): InvalidSession {
  return { valid: false, reason };
}

function checkUser(userId: unknown, call: string): void {
  if (userId !== null && (typeof userId !== 'string' || userId.length === 0)) {
    throw new ConfigError(
      `${call}: userId must be a non-empty string (or null for anonymous); got ${JSON.stringify(userId)}`,
      {
        context: { option: 'userId' },
      },
    );
  }
}

/**
 * Creates a session manager.
 *
 * @example
 * ```ts
 * const sessions = createSessionManager({
 *   redis: createRedis(),
 *   secret: process.env.SESSION_SECRET!,
 *   idleTimeout: '30m',
 *   absoluteTimeout: '8h',
 *   maxSessionsPerUser: 3,
 * });
 * ```
 */
export function createSessionManager<T = unknown>(options: SessionManagerOptions): SessionManager<T> {
  return new SessionManager<T>(options);
}
