/**
 * The session manager: the rules. Every state change is one Lua script on the
 * Redis server's clock, run through the typed layer of `session-scripts.ts`,
 * so limits, expiry and analytics stay consistent however many processes
 * share the store. What stays here is policy: secret rotation (a session is
 * looked up under each secret, created only under the current one), bindings
 * (IP, user agent; what a session stores of its request is in
 * `request-context.ts`), optimistic retries of `update` and `regenerate`, the
 * ids this process issued to the store adapters (`issued-ids.ts`), and events.
 *
 * Ids never reach Redis: keys hold an HMAC of the id. Data is
 * envelope-serialized and, with `encryption`, sealed with AES-256-GCM bound to
 * the session's key (`payload.ts`). Each verb runs under one time budget
 * (`commandTimeout`): a lookup under two secrets, or a read then a write, does
 * not wait one timeout per script with Redis down.
 */
import { ConfigError, ConsistencyError, check, type Duration, type KeyBuilder } from '@stratacache/core-client';
import { ipBindingTag, ipMatches, uaBindingTag } from './binding.js';
import { publish } from './diagnostics.js';
import { generateSessionId, hashUserAgent, hmacId, isWellFormedId } from './ids.js';
import { IssuedIds } from './issued-ids.js';
import { type ResolvedSessionOptions, resolveSessionOptions, type SessionManagerOptions } from './options.js';
import { openPayload, type Payload, sealPayload } from './payload.js';
import { bindingTags, payloadFor, requireContext, withRequestFacts } from './request-context.js';
import { type ReadReply, type SaveReply, type SaveRequest, SessionScripts } from './session-scripts.js';
import type {
  BindingWarning,
  CreateResult,
  GetOptions,
  InvalidReason,
  InvalidSession,
  PutOptions,
  PutResult,
  RegenerateOptions,
  RequestContext,
  Session,
  SessionInfo,
  SessionStats,
  SessionTimes,
} from './types.js';

/** Optimistic-concurrency retries of `update` and `regenerate`. */
const CAS_ATTEMPTS = 10;

/** A session found under one of the secrets. */
type Found = Extract<ReadReply, { status: 'ok' }> & { secret: Buffer; member: string; key: string };
type Read = Exclude<ReadReply, { status: 'ok' }> | Found;

/** The session manager: see {@link createSessionManager}. */
export class SessionManager<T = unknown> {
  /** The resolved options (frozen). */
  readonly options: ResolvedSessionOptions;
  private readonly keys: KeyBuilder;
  private readonly tag;
  private readonly prefix: string;
  private readonly scripts: SessionScripts;
  private readonly issued = new IssuedIds();

  constructor(options: SessionManagerOptions) {
    this.options = resolveSessionOptions(options);
    this.keys = this.options.redis.keys(this.options.namespace);
    // One hash tag per manager: every script's keys share a Cluster slot.
    this.tag = this.keys.tag(this.options.namespace);
    this.prefix = this.keys.key('s', this.tag, '');
    this.scripts = new SessionScripts(this.options.redis, this.prefix, [
      this.keys.key('exp', this.tag),
      this.keys.key('seen', this.tag),
      this.keys.key('born', this.tag),
      this.keys.key('stats', this.tag),
    ]);
  }

  /** The namespace of this manager's keys. */
  get namespace(): string {
    return this.options.namespace;
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
    const payload = payloadFor(this.options, userId, data, context, 'create');
    const secret = this.options.secrets[0] as Buffer;
    const reply = await this.budgeted((scripts) =>
      this.save(scripts, id, secret, 'create', payload, this.options.idleMs, '', true),
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
    const session = this.session(id, reply.times, payload, []);
    return { created: true, id, evicted: reply.evicted, session };
  }

  /**
   * The session of `id`, checked against its bindings, or why not. Slides the
   * idle timeout unless `touch: false`. A malformed id is `'unknown'` without a
   * Redis round trip; a value that fails authentication or decoding is `'tampered'`.
   */
  async get(id: string, options: GetOptions = {}): Promise<Session<T> | InvalidSession> {
    const { bindIp, bindUserAgent } = this.options;
    requireContext(this.options, options, 'get');
    const enforceIp = bindIp !== undefined && bindIp.mode !== 'detect';
    const read = await this.budgetedRead((scripts) =>
      this.read(scripts, id, {
        touch: options.touch ?? true,
        withValue: true,
        ipTag: enforceIp ? (secret) => ipBindingTag(secret, options.ip as string, bindIp) : undefined,
        uaTag:
          bindUserAgent === 'enforce'
            ? (secret) => uaBindingTag(secret, hashUserAgent(options.userAgent as string))
            : undefined,
      }),
    );
    if (read.status !== 'ok') {
      if (read.status === 'ip-mismatch' || read.status === 'ua-mismatch') {
        const kind = read.status === 'ip-mismatch' ? 'ip' : 'ua';
        publish('bindingMismatch', { namespace: this.namespace, kind, enforced: true });
      }
      return invalid(read.status);
    }
    const payload = openPayload(this.options, read.value, read.key);
    if (!payload) return invalid('tampered');
    const warnings: BindingWarning[] = [];
    const ipDiffers = !(payload.ip !== undefined && ipMatches(payload.ip, options.ip as string, 'exact', 32, 128));
    if (bindIp?.mode === 'detect' && ipDiffers) warnings.push('ip-mismatch');
    if (bindUserAgent === 'detect' && payload.ua !== hashUserAgent(options.userAgent as string)) {
      warnings.push('ua-mismatch');
    }
    for (const warning of warnings) {
      const kind = warning === 'ip-mismatch' ? 'ip' : 'ua';
      publish('bindingMismatch', { namespace: this.namespace, userId: payload.u, kind, enforced: false });
    }
    return this.session(id, read.times, payload, warnings);
  }

  /**
   * The session of `id` without checking bindings, and without touching it
   * unless `touch: true` (which slides the session's own idle timeout, in the
   * same round trip): for servers and store adapters, not for requests.
   */
  async peek(id: string, options: { touch?: boolean } = {}): Promise<Session<T> | InvalidSession> {
    const touch = check.object<{ touch?: boolean }>(options, 'options').touch === true;
    const read = await this.budgetedRead((scripts) => this.read(scripts, id, { touch, withValue: true }));
    if (read.status !== 'ok') return invalid(read.status);
    const payload = openPayload(this.options, read.value, read.key);
    return payload ? this.session(id, read.times, payload, []) : invalid('tampered');
  }

  /**
   * Changes the data of a live session: a shallow merge of `patch` into object
   * data, or `patch(data)` for any data. Retries on concurrent writes
   * (compare-and-set on a write counter), so no update is lost. Slides the idle timeout.
   */
  async update(id: string, patch: Partial<T> | ((data: T) => T)): Promise<Session<T> | InvalidSession> {
    return this.budgeted(async (scripts) => {
      for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        const read = await this.read(scripts, id, { touch: false, withValue: true });
        if (read.status !== 'ok') return invalid(read.status);
        const payload = openPayload(this.options, read.value, read.key);
        if (!payload) return invalid('tampered');
        const data = payload.d as T;
        const next =
          typeof patch === 'function'
            ? (patch as (data: T) => T)(data)
            : ({ ...(data as object), ...(patch as object) } as T);
        const saved = { ...payload, d: next };
        const reply = await this.save(scripts, id, read.secret, 'update', saved, 0, read.version, false);
        if (reply.status === 'conflict') continue;
        if (reply.status !== 'ok') return invalid(reply.status === 'expired' ? 'expired' : 'unknown');
        return this.session(id, reply.times, saved, []);
      }
      throw new ConsistencyError(`update: the session kept changing under ${CAS_ATTEMPTS} attempts; retry later`);
    });
  }

  /**
   * Slides the idle timeout of `id` (never past the absolute timeout). Resolves
   * the new times, or why there is no session.
   */
  async touch(id: string, options: PutOptions = {}): Promise<({ valid: true } & SessionTimes) | InvalidSession> {
    const idleMs = options.idleTimeout === undefined ? 0 : this.idle(options.idleTimeout, 'touch');
    const read = await this.budgetedRead((scripts) =>
      this.read(scripts, id, { touch: true, withValue: false, idleMs }),
    );
    if (read.status !== 'ok') return invalid(read.status);
    return { valid: true, ...read.times };
  }

  /**
   * Moves a session to a new id with the same data, user and timeouts (the
   * absolute timeout does not move), and invalidates the old id, atomically.
   * Call it on login and on any privilege change (session fixation). With
   * `ip`/`userAgent`, the session is re-bound to them.
   */
  async regenerate(id: string, context: RegenerateOptions = {}): Promise<Session<T> | InvalidSession> {
    return this.budgeted(async (scripts) => {
      for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        const read = await this.read(scripts, id, { touch: false, withValue: true });
        if (read.status !== 'ok') return invalid(read.status);
        const payload = openPayload(this.options, read.value, read.key);
        if (!payload) return invalid('tampered');
        const next = withRequestFacts({ ...payload }, context);
        const newId = generateSessionId();
        const secret = this.options.secrets[0] as Buffer;
        const newMember = hmacId(secret, newId);
        const newKey = this.prefix + newMember;
        // Tags are keyed by the secret that names the session, which may now be a newer one.
        const reply = await scripts.rename({
          oldKey: read.key,
          newKey,
          oldMember: read.member,
          newMember,
          value: sealPayload(this.options, next, newKey),
          version: read.version,
          ...bindingTags(this.options, secret, next),
        });
        if (reply.status === 'conflict' || reply.status === 'exists') continue;
        if (reply.status !== 'ok') return invalid(reply.status === 'expired' ? 'expired' : 'unknown');
        publish('regenerated', { namespace: this.namespace, userId: payload.u });
        return this.session(newId, reply.times, next, []);
      }
      throw new ConsistencyError(`regenerate: the session kept changing under ${CAS_ATTEMPTS} attempts; retry later`);
    });
  }

  /** Destroys the session of `id` (logout). Resolves whether there was one. */
  async destroy(id: string): Promise<boolean> {
    if (!isWellFormedId(id)) return false;
    return this.budgetedRead(async (scripts) => {
      for (const secret of this.options.secrets) {
        const member = hmacId(secret, id);
        if (await scripts.destroy(this.prefix + member, member)) {
          publish('destroyed', { namespace: this.namespace, count: 1 });
          return true;
        }
      }
      return false;
    });
  }

  /** Destroys a session of `userId` by the `ref` that `list(userId)` gave ("log out that device"). */
  async revoke(userId: string, ref: string): Promise<boolean> {
    checkUser(userId, 'revoke');
    if (typeof ref !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(ref)) return false;
    if (!(await this.scripts.destroy(this.prefix + ref, ref, this.indexKey(userId)))) return false;
    publish('destroyed', { namespace: this.namespace, userId, count: 1 });
    return true;
  }

  /** Destroys every session of `userId`, except the one of `except` (the current device). Resolves how many. */
  async destroyAllForUser(userId: string, options: { except?: string } = {}): Promise<number> {
    checkUser(userId, 'destroyAllForUser');
    const except = options.except;
    const keep = isWellFormedId(except) ? this.options.secrets.map((s) => hmacId(s, except)) : [];
    const { destroyed, expired } = await this.scripts.destroyUser(this.indexKey(userId), keep);
    this.noteExpired(expired);
    if (destroyed > 0) publish('destroyed', { namespace: this.namespace, userId, count: destroyed });
    return destroyed;
  }

  /** The live sessions of `userId`, most recently used first; cleans the user's index of ended ones. */
  async list(userId: string): Promise<SessionInfo<T>[]> {
    checkUser(userId, 'list');
    const { expired, sessions } = await this.scripts.list(this.indexKey(userId));
    this.noteExpired(expired);
    const out: SessionInfo<T>[] = [];
    for (const { member, value, times } of sessions) {
      const payload = openPayload(this.options, value, this.prefix + member);
      if (payload) out.push({ ref: member, userId: payload.u, data: payload.d as T, ip: payload.ip, ...times });
    }
    return out.sort((x, y) => y.lastSeenAt - x.lastSeenAt);
  }

  /** How many live sessions `userId` has; cleans the user's index of ended ones. */
  async count(userId: string): Promise<number> {
    checkUser(userId, 'count');
    const { expired, count } = await this.scripts.count(this.indexKey(userId));
    this.noteExpired(expired);
    return count;
  }

  /**
   * Cross-instance analytics from Redis: live sessions, sessions used within
   * `activeWithin`, lifetime counters and session durations. Sweeps (and
   * counts) up to 1000 sessions that expired unnoticed first.
   */
  async stats(options: { activeWithin?: Duration } = {}): Promise<SessionStats> {
    const windowMs = check.nonNegativeDuration(options.activeWithin ?? '5m', 'activeWithin');
    const { stats, expiredNow } = await this.scripts.stats(windowMs, 1000);
    this.noteExpired(expiredNow);
    return stats;
  }

  /**
   * A new session id, remembered by this process for 10 minutes so that a
   * first `put` may create a session under it. For express-session's `genid`
   * and @fastify/session's `idGenerator`; `create` needs none.
   */
  issueId(): string {
    return this.issued.issue();
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
    const issued = this.issued.has(id);
    const payload: Payload = { u: userId, d: data };
    return this.budgeted(async (scripts) => {
      for (const [i, secret] of this.options.secrets.entries()) {
        // A new session is only ever created under the current secret.
        const mode = issued && i === 0 ? 'upsert' : 'update';
        const reply = await this.save(scripts, id, secret, mode, payload, idleMs, '', i === 0);
        if (reply.status === 'unknown') continue;
        if (reply.status === 'expired') return this.refused('ended');
        if (reply.status === 'rejected') {
          publish('rejected', { namespace: this.namespace, userId, limit: this.options.maxSessionsPerUser });
          return 'rejected';
        }
        if (reply.status !== 'ok') return this.refused(reply.status);
        if (issued) {
          this.issued.used(id);
          if (reply.created) {
            publish('created', { namespace: this.namespace, userId });
            return 'created';
          }
        }
        return 'saved';
      }
      return this.refused('not-issued');
    });
  }

  /** Every live session's data (for express-session's `all`). Reads in batches; skips values that fail authentication. */
  async all(): Promise<{ userId: string | null; data: T }[]> {
    const out: { userId: string | null; data: T }[] = [];
    for (const { member, value } of await this.scripts.liveValues()) {
      const payload = openPayload(this.options, value, this.prefix + member);
      if (payload) out.push({ userId: payload.u, data: payload.d as T });
    }
    return out;
  }

  /** Removes every key of this manager's namespace: sessions, indexes and counters. Resolves how many keys. */
  clear(): Promise<number> {
    return this.options.redis.unlinkMatching(this.keys.all());
  }

  // ---- internals ----

  /**
   * One time budget (commandTimeout) for every script of a verb: `fn` gets
   * the scripts under that budget, passed along explicitly (no
   * AsyncLocalStorage, which would slow every promise of a Node 20 process).
   */
  private budgeted<R>(fn: (scripts: SessionScripts) => Promise<R>): Promise<R> {
    return fn(this.scripts.within(this.options.redis.budget()));
  }

  /**
   * A read or a single-script verb: one script per listed secret. With one
   * secret that is one command, which its own command timeout already bounds,
   * so no shared budget is set up for it.
   */
  private budgetedRead<R>(fn: (scripts: SessionScripts) => Promise<R>): Promise<R> {
    return this.options.secrets.length > 1 ? this.budgeted(fn) : fn(this.scripts);
  }

  /** The Redis key of a user's index: a SHA-256 of the user id, so keys never show user ids. */
  private indexKey(userId: string | null): string {
    return userId === null ? this.keys.key('u', this.tag, '-') : this.keys.hashed('u', this.tag, userId);
  }

  private idle(value: Duration, call: string): number {
    return check.positiveDuration(value, `${call}: idleTimeout`);
  }

  private refused(reason: string): 'refused' {
    publish('refused', { namespace: this.namespace, reason });
    return 'refused';
  }

  private noteExpired(count: number): void {
    if (count > 0) publish('expired', { namespace: this.namespace, count });
  }

  private session(id: string, times: SessionTimes, payload: Payload, warnings: BindingWarning[]): Session<T> {
    return { valid: true, id, userId: payload.u, data: payload.d as T, ip: payload.ip, warnings, ...times };
  }

  /** Finds `id` under each secret in turn (rotation) and reads it. */
  private async read(
    scripts: SessionScripts,
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
      const key = this.prefix + member;
      const reply = await scripts.read(key, member, {
        touch: options.touch,
        withValue: options.withValue,
        idleMs: options.idleMs ?? 0,
        ipTag: options.ipTag?.(secret) ?? '',
        uaTag: options.uaTag?.(secret) ?? '',
      });
      if (reply.status === 'unknown') continue;
      if (reply.status === 'expired') this.noteExpired(1);
      if (reply.status !== 'ok') return reply;
      return { ...reply, secret, member, key };
    }
    return { status: 'unknown' };
  }

  /** Saves `payload` for `id` under `secret`, with the binding tags of a new session when `tagNew`. */
  private async save(
    scripts: SessionScripts,
    id: string,
    secret: Buffer,
    mode: SaveRequest['mode'],
    payload: Payload,
    idleMs: number,
    version: string,
    tagNew: boolean,
  ): Promise<SaveReply> {
    const member = hmacId(secret, id);
    const key = this.prefix + member;
    const o = this.options;
    const reply = await scripts.save({
      key,
      member,
      indexKey: this.indexKey(payload.u),
      mode,
      value: sealPayload(o, payload, key),
      idleMs,
      absoluteMs: o.absoluteMs,
      maxSessionsPerUser: o.maxSessionsPerUser,
      onLimit: o.onLimit,
      anonymous: payload.u === null,
      version,
      ...(tagNew ? bindingTags(this.options, secret, payload) : { ipTag: '', uaTag: '' }),
    });
    if (reply.status === 'expired') this.noteExpired(1);
    if (reply.status === 'rejected') this.noteExpired(reply.expired);
    if (reply.status === 'ok') {
      this.noteExpired(reply.expired);
      if (reply.evicted > 0) publish('evicted', { namespace: this.namespace, userId: payload.u, count: reply.evicted });
    }
    return reply;
  }
}

function invalid(reason: InvalidReason): InvalidSession {
  return { valid: false, reason };
}

function checkUser(userId: unknown, call: string): void {
  if (userId !== null && (typeof userId !== 'string' || userId.length === 0)) {
    throw new ConfigError(
      `${call}: userId must be a non-empty string (or null for anonymous); got ${JSON.stringify(userId)}`,
      { context: { option: 'userId' } },
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
