/**
 * Log in and out. The login is rate limited per client address by
 * coordination's limiter (shared by every instance of the console), a wrong
 * user name costs the same scrypt work as a wrong password, an empty password
 * never matches, and a successful login gets a new session id (no fixation).
 */
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { html } from '../html.js';
import { csrfField, note, page } from '../layout.js';
import { hashPassword, parsePasswordHash, verifyPassword } from '../password.js';
import { field, pageContext, sendPage } from '../respond.js';

/** Where to go after the login: a path of this console only (never `//evil.example`). */
export function safeNext(next: string): string {
  return /^\/(?![/\\])[^\s]*$/.test(next) && !next.startsWith('/login') ? next : '/';
}

export function registerAuthRoutes(app: FastifyInstance, ctx: AdminContext): void {
  // A wrong user name is checked against this hash, so it takes as long as a wrong password.
  const dummy = hashPassword('a-password-nobody-has-0', { N: 16384 }).then((h) => parsePasswordHash(h, 'dummy'));

  const form = (
    request: Parameters<typeof pageContext>[0],
    reply: Parameters<typeof pageContext>[1],
    message?: string,
    status = 200,
  ) => {
    const pc = pageContext(request, reply, true);
    const next = safeNext(field(request.query, 'next') || field(request.body, 'next'));
    const otp = ctx.options.passwordHash === undefined && ctx.users.has('admin');
    return sendPage(
      reply,
      page(
        'Log in',
        '',
        pc,
        html`${message ? html`<div class="error" role="alert">${message}</div>` : ''}
<form class="login" method="post" action="/login">
  ${csrfField(pc)}
  <input type="hidden" name="next" value="${next}">
  <label>User <input name="user" autocomplete="username" value="admin" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Log in</button>
</form>
${otp ? note('No ADMIN_PASSWORD_HASH is configured: log in as admin with the one-time password the console printed when it started.') : ''}`,
      ),
      status,
    );
  };

  app.get('/login', { config: { access: 'public' } }, async (request, reply) => {
    if (request.session.userId) return reply.redirect('/', 303);
    return form(request, reply);
  });

  app.post('/login', { config: { access: 'public' } }, async (request, reply) => {
    const decision = await ctx.loginLimiter.limit(`ip:${request.ip}`);
    if (!decision.allowed) {
      reply.header('retry-after', Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
      return form(request, reply, 'Too many login attempts from this address; wait and try again.', 429);
    }
    const name = field(request.body, 'user');
    const password = field(request.body, 'password');
    const user = ctx.users.get(name);
    const ok = await verifyPassword(password, user?.hash ?? (await dummy));
    if (!user || !ok) return form(request, reply, 'Wrong user name or password.', 401);
    await request.session.regenerate();
    request.session.userId = user.name;
    request.session.role = user.role;
    request.session.loginAt = Date.now();
    request.session.ip = request.ip;
    request.session.userAgent = String(request.headers['user-agent'] ?? '').slice(0, 300);
    return reply.redirect(safeNext(field(request.body, 'next')), 303);
  });

  app.post('/logout', { config: { access: 'read' } }, async (request, reply) => {
    await request.session.destroy();
    return reply.redirect('/login', 303);
  });
}
