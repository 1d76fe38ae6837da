/** Small helpers the routes share: the page context, sending a page, the client address, htmx requests. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SafeHtml } from './html.js';
import type { PageContext } from './layout.js';

/**
 * Who is looking, and a CSRF token for their forms. An anonymous visitor gets
 * one only on the login form (`forLogin`): any other page (an error page for a
 * refused cross-site post, say) must not start a session, whose cookie would
 * replace the one of a logged-in user.
 */
export function pageContext(request: FastifyRequest, reply: FastifyReply, forLogin = false): PageContext {
  const user = request.session?.userId;
  return {
    user,
    role: request.session?.role,
    csrfToken: request.session && (user || forLogin) ? reply.generateCsrf() : undefined,
  };
}

/** Sends a page (or a fragment) as HTML. */
export function sendPage(reply: FastifyReply, body: SafeHtml, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body.toString());
}

/** True for a request htmx made (it wants a fragment, not a page). */
export function isHtmx(request: FastifyRequest): boolean {
  return request.headers['hx-request'] === 'true';
}

/** The user and client of a request, for the audit log. */
export function actor(request: FastifyRequest): { who: string; role: string; ip: string } {
  return { who: request.session?.userId ?? '?', role: request.session?.role ?? '?', ip: request.ip };
}

/** A form or query field as one string ('' when absent; the first when repeated). */
export function field(source: unknown, name: string): string {
  const value = (source as Record<string, unknown> | undefined)?.[name];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : '';
  return typeof value === 'string' ? value : '';
}
