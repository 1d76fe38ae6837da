/**
 * Sessions of `@stratacache/sessions`, through its manager: per namespace the
 * analytics (`stats()`), a user's live sessions (`list(userId)`: created,
 * last seen, expiry, IP, and the user agent when the application keeps it in
 * the session data; the manager itself stores only a keyed hash of it), and
 * revoking one (`revoke(userId, ref)`) or all (`destroyAllForUser`), audited.
 *
 * The manager is built with a secret of the console's own: listing, stats and
 * revoking never need the application's secret (keys hold HMACs; a `ref` is
 * one). Sessions encrypted at rest cannot be decrypted here; they are counted
 * but not listed.
 */
import { randomBytes } from 'node:crypto';
import { createSessionManager, type SessionManager, type SessionStats } from '@stratacache/sessions';
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, duration, errorBox, note, page, when } from '../layout.js';
import { actor, field, pageContext, sendPage } from '../respond.js';
import { HttpError } from '../security.js';
import { PAGE_BUDGET_MS, within } from '../timeout.js';

/** The console's own sessions live here (see server.ts). */
export const ADMIN_SESSIONS = 'admin-sessions';

function managers(ctx: AdminContext): Map<string, { manager: SessionManager; limit: number | undefined }> {
  const secret = randomBytes(32);
  const out = new Map<string, { manager: SessionManager; limit: number | undefined }>();
  for (const { namespace, limit } of [...ctx.options.sessionNamespaces, { namespace: ADMIN_SESSIONS, limit: 20 }]) {
    if (out.has(namespace)) continue;
    out.set(namespace, { manager: createSessionManager({ redis: ctx.redis, secret, namespace }), limit });
  }
  return out;
}

function statsTable(ns: string, limit: number | undefined, s: SessionStats): SafeHtml {
  return html`<tr><td class="nowrap"><a href="/sessions?ns=${ns}">${ns}</a></td><td>${s.active}</td><td>${s.activeWithin.count}</td>
<td>${limit ?? html`<span class="muted">not configured here</span>`}</td><td>${s.created}</td><td>${s.destroyed}</td><td>${s.expired}</td><td>${s.evicted}</td><td>${s.rejected}</td><td>${s.bindingMismatches}</td>
<td>${s.durations.count === 0 ? html`<span class="muted">none ended yet</span>` : html`${duration(s.durations.averageMs)} <span class="muted">(${s.durations.count} ended)</span>`}</td></tr>`;
}

function userAgentOf(data: unknown): string | undefined {
  const ua = (data as { userAgent?: unknown } | null)?.userAgent;
  return typeof ua === 'string' ? ua : undefined;
}

export function registerSessionRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const all = managers(ctx);
  const managerOf = (ns: string) => {
    const found = all.get(ns);
    if (!found)
      throw new HttpError(400, `ns must be one of the configured session namespaces: ${[...all.keys()].join(', ')}`);
    return found;
  };

  app.get('/sessions', async (request, reply) => {
    const ns = field(request.query, 'ns') || ([...all.keys()][0] as string);
    const user = field(request.query, 'user');
    const { manager, limit } = managerOf(ns);
    const pc = pageContext(request, reply);
    let overview: SafeHtml;
    try {
      const stats = await within(
        Promise.all([...all].map(async ([name, m]) => statsTable(name, m.limit, await m.manager.stats()))),
        PAGE_BUDGET_MS,
        'session stats',
      );
      overview = html`<table class="grid"><thead><tr><th>namespace</th><th>live</th><th>used in 5 min</th><th>limit per user</th><th>created</th><th>destroyed</th><th>expired</th><th>evicted</th><th>rejected</th><th>binding mismatches</th><th>average length</th></tr></thead><tbody>${stats}</tbody></table>
${note("Limits per user live in each application's configuration, not in Redis: set them here with ADMIN_SESSION_NAMESPACES=name=limit to compare.")}`;
    } catch (error) {
      overview = errorBox('Session analytics could not be read', error);
    }
    let detail: SafeHtml = html``;
    if (user) {
      try {
        const [list, count] = await within(
          Promise.all([manager.list(user), manager.count(user)]),
          PAGE_BUDGET_MS,
          'sessions of the user',
        );
        detail = html`<h2>Sessions of <code>${user}</code> in ${ns}</h2>
<p data-testid="session-count">${count} live${limit ? ` of at most ${limit}` : ''}.</p>
${count > list.length ? note(`${count - list.length} sessions could not be read here (encrypted at rest, or not a session): they are counted, not listed.`) : ''}
<table class="grid" data-testid="sessions"><thead><tr><th>ref</th><th>created</th><th>last seen</th><th>ends (idle)</th><th>ends (absolute)</th><th>IP</th><th>user agent</th>${pc.role === 'admin' ? html`<th></th>` : ''}</tr></thead>
<tbody>${list.map(
          (
            s,
          ) => html`<tr><td class="nowrap"><code title="${s.ref}">${s.ref.slice(0, 10)}…</code></td><td class="time">${when(s.createdAt)}</td><td class="time">${when(s.lastSeenAt)}</td><td class="time">${when(s.expiresAt)}</td><td class="time">${when(s.absoluteExpiresAt)}</td>
<td>${s.ip ?? '-'}</td><td>${userAgentOf(s.data) ?? html`<span class="muted">not kept</span>`}</td>
${
  pc.role === 'admin'
    ? html`<td><form method="post" action="/sessions/revoke">${csrfField(pc)}<input type="hidden" name="ns" value="${ns}"><input type="hidden" name="user" value="${user}"><input type="hidden" name="ref" value="${s.ref}"><button type="submit" class="danger">Revoke</button></form></td>`
    : ''
}</tr>`,
        )}</tbody></table>
${
  pc.role === 'admin' && count > 0
    ? html`<form method="post" action="/sessions/revoke-all">${csrfField(pc)}<input type="hidden" name="ns" value="${ns}"><input type="hidden" name="user" value="${user}">
<label><input type="checkbox" name="confirm" value="yes" required> Log this user out everywhere</label> <button type="submit" class="danger">Revoke all ${count}</button></form>`
    : ''
}
${note('The user agent shows only when the application keeps it in the session data (field userAgent); @stratacache/sessions stores a keyed hash of it for binding.')}`;
      } catch (error) {
        detail = errorBox('The sessions of the user could not be read', error);
      }
    }
    return sendPage(
      reply,
      page(
        'Sessions',
        '/sessions',
        pc,
        html`${overview}
<form class="filters" method="get" action="/sessions"><label>Namespace <select name="ns">${[...all.keys()].map((n) => html`<option${n === ns ? html` selected` : ''}>${n}</option>`)}</select></label>
<label>User id <input name="user" value="${user}" required></label><button type="submit">Search</button></form>
${detail}`,
      ),
    );
  });

  app.post('/sessions/revoke', { config: { access: 'write' } }, async (request, reply) => {
    const ns = field(request.body, 'ns');
    const user = field(request.body, 'user');
    const ref = field(request.body, 'ref');
    const { manager } = managerOf(ns);
    if (!user) throw new HttpError(400, 'user is required');
    const done = await ctx.audit.run(
      { ...actor(request), action: 'session.revoke', target: `${ns} ${user}`, detail: ref.slice(0, 10) },
      () => manager.revoke(user, ref),
    );
    if (!done) throw new HttpError(404, 'No such session of that user (it may have ended already).');
    return reply.redirect(`/sessions?ns=${encodeURIComponent(ns)}&user=${encodeURIComponent(user)}`, 303);
  });

  app.post('/sessions/revoke-all', { config: { access: 'write' } }, async (request, reply) => {
    const ns = field(request.body, 'ns');
    const user = field(request.body, 'user');
    const { manager } = managerOf(ns);
    if (!user) throw new HttpError(400, 'user is required');
    if (field(request.body, 'confirm') !== 'yes') throw new HttpError(400, 'Confirm first.');
    await ctx.audit.run({ ...actor(request), action: 'session.revoke-all', target: `${ns} ${user}` }, () =>
      manager.destroyAllForUser(user),
    );
    return reply.redirect(`/sessions?ns=${encodeURIComponent(ns)}&user=${encodeURIComponent(user)}`, 303);
  });
}
