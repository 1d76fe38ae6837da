/**
 * @stratacache/sessions/express: an express-session store over the session
 * manager. It takes express-session's `Store` class from the caller, so this
 * module imports neither express nor express-session at run time.
 *
 * @example
 * ```ts
 * import session from 'express-session';
 * import { createExpressStore } from '@stratacache/sessions/express';
 * const store = createExpressStore(session, sessions);
 * app.use(session({ store, genid: store.genid, secret: process.env.COOKIE_SECRET!, resave: false, saveUninitialized: false }));
 * ```
 */
import type { SessionManager } from './manager.js';
import { type SessionStoreOptions, SlidingReadStore, type StoreCallback, type StoredSession } from './store.js';

export type { SessionStoreOptions, StoreCallback, StoredSession } from './store.js';
export { CallbackStore, cookieTtl } from './store.js';

/** The store's methods, on top of express-session's `Store`. */
export interface ExpressStoreMethods {
  /** Session ids the manager accepts: pass it as express-session's `genid`. */
  readonly genid: () => string;
  /** The manager underneath. */
  readonly manager: SessionManager<StoredSession>;
  get<S extends object = StoredSession>(sid: string, callback: StoreCallback<S | null>): void;
  set(sid: string, session: object, callback?: StoreCallback): void;
  touch(sid: string, session: object, callback?: StoreCallback): void;
  destroy(sid: string, callback?: StoreCallback): void;
  all<S extends object = StoredSession>(callback: StoreCallback<S[]>): void;
  length(callback: StoreCallback<number>): void;
  clear(callback?: StoreCallback): void;
}

// biome-ignore lint/suspicious/noExplicitAny: a constructor of any signature (express-session's Store takes none).
type AnyConstructor = abstract new (...args: any[]) => object;

const METHODS = ['get', 'set', 'touch', 'destroy', 'all', 'length', 'clear'] as const;

/**
 * An express-session store backed by `manager`. Pass express-session itself
 * (or anything with its `Store` class) as `session`; set `genid: store.genid`
 * so new sessions get ids the manager issued (a `set` for any other id writes
 * nothing). `cookie.maxAge` / `cookie.expires` set the idle TTL, never past
 * the manager's absolute timeout.
 */
export function createExpressStore<S extends AnyConstructor>(
  session: { Store: S },
  manager: SessionManager<StoredSession>,
  options: SessionStoreOptions = {},
): InstanceType<S> & ExpressStoreMethods {
  const Base = session?.Store as unknown as new () => object;
  if (typeof Base !== 'function') {
    throw new TypeError('createExpressStore(session, manager): pass the express-session module (it has .Store)');
  }
  // express-session reads at the start of a request and touches at its end: one sliding read serves both.
  const core = new SlidingReadStore(manager, options);
  class StratacacheExpressStore extends Base {
    readonly genid = core.genid;
    readonly manager = manager;
  }
  for (const name of METHODS) {
    Object.defineProperty(StratacacheExpressStore.prototype, name, {
      value(this: unknown, ...args: unknown[]) {
        (core[name] as (...a: unknown[]) => Promise<unknown>)(...args).catch(() => {});
      },
      writable: true,
      configurable: true,
    });
  }
  return new StratacacheExpressStore() as InstanceType<S> & ExpressStoreMethods;
}
