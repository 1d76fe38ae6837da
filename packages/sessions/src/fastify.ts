/**
 * @stratacache/sessions/fastify: a store for @fastify/session over the
 * session manager. @fastify/session needs no base class, so this module
 * imports nothing of Fastify.
 *
 * @example
 * ```ts
 * import fastifyCookie from '@fastify/cookie';
 * import fastifySession from '@fastify/session';
 * import { createFastifyStore } from '@stratacache/sessions/fastify';
 * const store = createFastifyStore(sessions);
 * app.register(fastifyCookie);
 * app.register(fastifySession, { store, idGenerator: store.genid, secret: process.env.COOKIE_SECRET! });
 * ```
 */
import type { SessionManager } from './manager.js';
import { CallbackStore, type SessionStoreOptions, type StoredSession } from './store.js';

export type { SessionStoreOptions, StoreCallback, StoredSession } from './store.js';
export { CallbackStore, cookieTtl } from './store.js';

/**
 * A @fastify/session store backed by `manager`. Pass `idGenerator: store.genid`
 * so new sessions get ids the manager issued (a `set` for any other id writes nothing).
 */
export function createFastifyStore(
  manager: SessionManager<StoredSession>,
  options: SessionStoreOptions = {},
): CallbackStore {
  return new CallbackStore(manager, options);
}
