/**
 * The request guards, in the order a request meets them:
 *
 * 1. Host: on a loopback interface only loopback host names are answered
 *    (a DNS-rebinding page cannot talk to the console), or the public origin's host.
 * 2. Origin: every state-changing request must carry an `Origin` equal to
 *    the console's own; a cross-site form post is refused before anything runs.
 * 3. Authentication: every route but login and static files needs a session
 *    with a user; pages redirect to the login, other requests get 401.
 * 4. Role: write routes refuse the read-only role (403).
 * 5. CSRF: every state-changing request needs the session's token
 *    (`@fastify/csrf-protection`), from the form field or the `x-csrf-token` header.
 *
 * SameSite=Strict cookies and the CSP are set where the plugins are registered (server.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ResolvedAdminOptions } from './config.js';

/** Who may call a route: anyone, any logged-in user, or the admin role only. */
export type Access = 'public' | 'read' | 'write';

/** The roles. */
export type Role = 'admin' | 'read-only';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** @default 'read' */
    access?: Access;
  }
  interface Session {
    userId?: string;
    role?: Role;
    loginAt?: number;
    ip?: string;
    userAgent?: string;
    _csrf?: string;
  }
}

/** An error with an HTTP status, rendered by the error handler. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

function hostName(host: string): string {
  // `[::1]:8420` -> `[::1]`, `localhost:8420` -> `localhost`
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
}

/** True when the request may come from a page of the console itself. */
export function originAllowed(request: FastifyRequest, options: ResolvedAdminOptions): boolean {
  const origin = request.headers.origin;
  if (typeof origin !== 'string' || origin === '' || origin === 'null') return false;
  if (options.publicOrigin !== undefined && origin === options.publicOrigin) return true;
  const host = request.headers.host;
  if (typeof host !== 'string') return false;
  return origin === `http://${host}` || origin === `https://${host}`;
}

/** True when the Host header names this console. */
export function hostAllowed(request: FastifyRequest, options: ResolvedAdminOptions): boolean {
  const host = request.headers.host;
  if (typeof host !== 'string' || host === '') return false;
  const name = hostName(host.toLowerCase());
  if (options.publicOrigin !== undefined && name === new URL(options.publicOrigin).hostname) return true;
  if (!options.loopback) return true;
  return LOOPBACK_NAMES.has(name);
}

function wantsHtml(request: FastifyRequest): boolean {
  return request.method === 'GET' && !request.headers['hx-request'] && !request.url.startsWith('/api/');
}

/**
 * Installs the guards on `app`: call it after @fastify/csrf-protection is
 * registered and before any route, since the CSRF check is added to every
 * state-changing route as it is declared (after the authentication hook, so
 * an anonymous request is told to log in rather than that its token is bad).
 */
export function installGuards(app: FastifyInstance, options: ResolvedAdminOptions): void {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.every((m) => SAFE_METHODS.has(m))) return;
    const existing =
      route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    route.preHandler = [...existing, app.csrfProtection];
  });

  app.addHook('onRequest', async (request) => {
    if (!hostAllowed(request, options)) {
      throw new HttpError(421, 'This console answers only to its own host name.');
    }
    if (!SAFE_METHODS.has(request.method) && !originAllowed(request, options)) {
      throw new HttpError(403, 'Cross-origin request refused: the Origin header is missing or names another site.');
    }
  });

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    // Static files (CSS, the vendored scripts) are public: the login page needs them.
    const access = request.url.startsWith('/static/') ? 'public' : (request.routeOptions.config?.access ?? 'read');
    if (access !== 'public') {
      const user = request.session?.userId;
      const role = request.session?.role;
      if (!user || !role) {
        if (wantsHtml(request)) {
          const next = encodeURIComponent(request.url);
          return reply.redirect(`/login?next=${next}`, 303);
        }
        throw new HttpError(401, 'Log in first.');
      }
      if (access === 'write' && role !== 'admin') {
        throw new HttpError(403, 'The read-only role cannot change anything.');
      }
    }
    return undefined;
  });
}
