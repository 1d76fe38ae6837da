/**
 * The callback store shared by the express-session and @fastify/session
 * adapters: both call get/set/destroy (and express also touch/all/length/clear)
 * with a Node-style callback. Ids come from the manager (`genid`), keys hold
 * their HMAC, and a `set` for an id the manager did not issue, or for a session
 * that already ended, writes nothing.
 */
import { ConfigError, check } from '@stratacache/core-client';
import { SessionLimitError } from './errors.js';
import { isWellFormedId, SESSION_ID_LENGTH } from './ids.js';
import type { SessionManager } from './manager.js';

/** A Node-style callback. */
export type StoreCallback<R = void> = (error: Error | null, result?: R) => void;

/** A stored session as the frameworks hand it over: their data plus a `cookie`. */
export type StoredSession = Record<string, unknown> & { cookie?: unknown };

/** Options of the express and fastify stores. */
export interface SessionStoreOptions {
  /**
   * The user a session belongs to, read from its data: per-user limits,
   * `list(userId)` and `destroyAllForUser` work on it. `null` or `undefined`
   * for an anonymous session (no index, no limit).
   * @default (session) => session.userId as a string, when it is a string or a number
   */
  userId?: (session: StoredSession) => string | number | null | undefined;
}

const defaultUserId = (session: StoredSession): string | null => {
  const id = session.userId;
  return typeof id === 'string' && id.length > 0 ? id : typeof id === 'number' ? String(id) : null;
};

/**
 * The idle TTL a session cookie asks for, in ms: until `cookie.expires`, else
 * `cookie.maxAge`/`originalMaxAge`; undefined for a browser-session cookie
 * (the manager's idleTimeout applies). The manager caps it at the absolute timeout.
 */
export function cookieTtl(session: object): number | undefined {
  const cookie = (session as StoredSession).cookie as
    | { expires?: unknown; maxAge?: unknown; originalMaxAge?: unknown }
    | undefined;
  if (!cookie || typeof cookie !== 'object') return undefined;
  if (cookie.expires) {
    const at = new Date(cookie.expires as string | Date).getTime();
    if (Number.isFinite(at)) return at - Date.now();
  }
  if (typeof cookie.maxAge === 'number') return cookie.maxAge;
  if (typeof cookie.originalMaxAge === 'number') return cookie.originalMaxAge;
  return undefined;
}

/** What an id looks like, without showing it. */
function describeId(sid: unknown): string {
  return typeof sid === 'string' ? `${sid.length} characters` : `a ${typeof sid}`;
}

function settle<R>(promise: Promise<R>, callback: StoreCallback<R> | undefined): Promise<R> {
  if (callback)
    promise.then(
      (result) => callback(null, result),
      (error) => callback(error),
    );
  return promise;
}

/** The methods both frameworks call, over a {@link SessionManager}. */
export class CallbackStore {
  /** Hands out session ids the manager will accept: pass as `genid` (express) or `idGenerator` (fastify). */
  readonly genid: () => string;
  private readonly userIdOf: (session: StoredSession) => string | null;

  constructor(
    /** The manager underneath. */
    readonly manager: SessionManager<StoredSession>,
    options: SessionStoreOptions = {},
  ) {
    this.genid = () => manager.issueId();
    const pick =
      check.object<SessionStoreOptions>(options, 'options').userId === undefined
        ? undefined
        : check.function<NonNullable<SessionStoreOptions['userId']>>(options.userId, 'userId');
    this.userIdOf = pick
      ? (session) => {
          const id = pick(session);
          return id === null || id === undefined || id === '' ? null : String(id);
        }
      : defaultUserId;
  }

  /**
   * The session data of `sid`, or null (unknown, ended, or failing authentication).
   * `S` is the framework's session type; the data is what it saved.
   */
  get<S extends object = StoredSession>(sid: string, callback?: StoreCallback<S | null>): Promise<S | null> {
    return settle(
      this.manager.peek(sid).then((result) => (result.valid ? (result.data as unknown as S) : null)),
      callback,
    );
  }

  /**
   * Saves `session` under `sid`: replaces an existing session's data, or
   * creates it when `sid` came from `genid` in this process. A set for any other
   * id of the store's shape writes nothing and succeeds (so a request racing a
   * logout cannot bring the session back). An id of another shape (the
   * framework made its own: `genid: store.genid` is missing) fails with a
   * `ConfigError` saying so. Over the per-user limit with `onLimit: 'reject'`,
   * it fails with a `SessionLimitError`.
   */
  set(sid: string, session: object, callback?: StoreCallback): Promise<void> {
    return settle(this.save(sid, session), callback);
  }

  /** Slides the idle timeout of `sid` to the cookie's (never past the absolute timeout). */
  touch(sid: string, session: object, callback?: StoreCallback): Promise<void> {
    const ttl = cookieTtl(session);
    const run = async () => {
      if (ttl !== undefined && ttl <= 0) {
        await this.manager.destroy(sid);
        return;
      }
      await this.manager.touch(sid, ttl === undefined ? {} : { idleTimeout: ttl });
    };
    return settle(run(), callback);
  }

  /** Destroys `sid`. */
  destroy(sid: string, callback?: StoreCallback): Promise<void> {
    return settle(
      this.manager.destroy(sid).then(() => undefined),
      callback,
    );
  }

  /** Every live session's data, as an array (the store never knows the ids: only their HMACs). */
  all<S extends object = StoredSession>(callback?: StoreCallback<S[]>): Promise<S[]> {
    return settle(
      this.manager.all().then((all) => all.map((s) => s.data as unknown as S)),
      callback,
    );
  }

  /** How many sessions are live. */
  length(callback?: StoreCallback<number>): Promise<number> {
    return settle(
      this.manager.stats().then((s) => s.active),
      callback,
    );
  }

  /** Removes every session of the manager's namespace (and its counters). */
  clear(callback?: StoreCallback): Promise<void> {
    return settle(
      this.manager.clear().then(() => undefined),
      callback,
    );
  }

  private async save(sid: string, session: object): Promise<void> {
    // Only ids from store.genid can create a session (a forged or stale id must not). An id of
    // another shape means the framework made its own: every login would "succeed" and store
    // nothing, so this fails loudly instead.
    if (!isWellFormedId(sid)) {
      throw new ConfigError(
        `The session store was asked to save a session under an id it did not issue (${describeId(sid)}, not a ${SESSION_ID_LENGTH}-character id from store.genid), so nothing can be stored. Pass genid: store.genid to express-session (idGenerator: store.genid to @fastify/session).`,
        { context: { option: 'genid' } },
      );
    }
    const ttl = cookieTtl(session);
    if (ttl !== undefined && ttl <= 0) {
      await this.manager.destroy(sid);
      return;
    }
    // Plain JSON data whatever the serializer: the frameworks' Cookie objects serialise through toJSON.
    const data = JSON.parse(JSON.stringify(session)) as StoredSession;
    const userId = this.userIdOf(data);
    const result = await this.manager.put(sid, userId, data, ttl === undefined ? {} : { idleTimeout: ttl });
    if (result === 'rejected') {
      throw new SessionLimitError(
        `User ${userId} already has ${this.manager.options.maxSessionsPerUser} sessions (maxSessionsPerUser, onLimit: 'reject')`,
        { context: { userId, limit: this.manager.options.maxSessionsPerUser } },
      );
    }
  }
}

/** How long after a sliding read the framework's touch counts as the same request's. */
const SAME_REQUEST_MS = 1000;
/** Most reads remembered for their touch (requests in flight, roughly). */
const MAX_REMEMBERED = 10_000;

/**
 * The store as express-session uses it: it reads the session when a request
 * starts and, unless it saves it, touches it when the request ends. Here the
 * read slides the idle timeout in the same round trip (one script), and the
 * touch that follows within a second asking for the same timeout (give or
 * take a second) is answered without Redis: one script per request, not two.
 * A touch for another timeout, a later one, or one whose read was not seen
 * here goes to Redis as before. The ids are kept in memory only between the
 * read and the touch of a request.
 */
export class SlidingReadStore extends CallbackStore {
  private readonly recent = new Map<string, { at: number; slidMs: number; leftMs: number }>();

  override get<S extends object = StoredSession>(sid: string, callback?: StoreCallback<S | null>): Promise<S | null> {
    const read = this.manager.peek(sid, { touch: true }).then((result) => {
      if (!result.valid) {
        this.recent.delete(sid);
        return null;
      }
      this.remember(sid, result.expiresAt - result.lastSeenAt, result.absoluteExpiresAt - result.lastSeenAt);
      return result.data as unknown as S;
    });
    return settle(read, callback);
  }

  override touch(sid: string, session: object, callback?: StoreCallback): Promise<void> {
    const slid = this.recent.get(sid);
    this.recent.delete(sid);
    const ttl = cookieTtl(session);
    if (
      slid !== undefined &&
      ttl !== undefined &&
      ttl > 0 &&
      performance.now() - slid.at < SAME_REQUEST_MS &&
      Math.abs(Math.min(ttl, slid.leftMs) - slid.slidMs) < SAME_REQUEST_MS
    ) {
      // The read of this request already slid the idle timeout to what this touch asks for.
      return settle(Promise.resolve(), callback);
    }
    return super.touch(sid, session, callback);
  }

  override set(sid: string, session: object, callback?: StoreCallback): Promise<void> {
    this.recent.delete(sid);
    return super.set(sid, session, callback);
  }

  override destroy(sid: string, callback?: StoreCallback): Promise<void> {
    this.recent.delete(sid);
    return super.destroy(sid, callback);
  }

  private remember(sid: string, slidMs: number, leftMs: number): void {
    const now = performance.now();
    this.recent.delete(sid);
    this.recent.set(sid, { at: now, slidMs, leftMs });
    // Oldest first: drop what is too old to match a touch, and anything past the bound.
    for (const [oldest, entry] of this.recent) {
      if (this.recent.size <= MAX_REMEMBERED && now - entry.at < SAME_REQUEST_MS) break;
      this.recent.delete(oldest);
    }
  }
}
