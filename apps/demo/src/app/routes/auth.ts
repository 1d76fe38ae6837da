/**
 * Logins through the sessions layer: `POST /login` (rate limited per client
 * address by coordination's Fastify middleware), `POST /logout`, `GET /me`, `GET /me/sessions` and
 * `DELETE /me/sessions/:ref` ("log out that device").
 *
 * At most 2 sessions per user (a third login evicts the least recently used);
 * the address a session was created from is bound in detect mode: a request
 * from another address still gets the session, with
 * `x-session-warning: ip-mismatch` and a diagnostics event, so the application
 * decides (log it, ask for the password again) instead of logging users out
 * whose address changed.
 */
import { scryptSync, timingSafeEqual } from 'node:crypto';
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services.js';

const COOKIE = 'sid';
// Compared against when the user does not exist, so an unknown name costs the same time as a wrong password.
const DUMMY_HASH = `${'00'.repeat(16)}:${scryptSync('x', Buffer.alloc(16), 32).toString('hex')}`;

function verify(password: string, stored: string): boolean {
  const [salt, hash] = stored.split(':');
  const expected = Buffer.from(hash ?? '', 'hex');
  const actual = scryptSync(password, Buffer.from(salt ?? '', 'hex'), 32);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Registers the session routes. */
export async function authRoutes(app: FastifyInstance, s: Services): Promise<void> {
  await app.register(cookie);

  /** The session of `request`, or a 401 sent. */
  async function current(request: FastifyRequest, reply: FastifyReply) {
    const id = request.cookies[COOKIE];
    if (!id) {
      await reply.code(401).send({ error: 'no-session', message: 'log in first: POST /login' });
      return undefined;
    }
    const session = await s.sessions.get(id, { ip: request.ip, userAgent: request.headers['user-agent'] ?? '' });
    if (!session.valid) {
      await reply.code(401).send({ error: session.reason, message: `no session: ${session.reason}` });
      return undefined;
    }
    if (session.warnings.length > 0) reply.header('x-session-warning', session.warnings.join(', '));
    return session;
  }

  app.post<{ Body: { username?: string; password?: string } }>(
    '/login',
    { onRequest: s.rateLimits.login },
    async (request, reply) => {
      const { username, password } = request.body ?? {};
      if (typeof username !== 'string' || typeof password !== 'string')
        return reply.code(400).send({ error: 'bad-request', message: 'send {"username": ..., "password": ...}' });
      // Credentials never go through the cache: a password hash has no business in Redis.
      const found = await s.pool.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [
        username,
      ]);
      const ok = verify(password, found.rows[0]?.password_hash ?? DUMMY_HASH) && found.rows.length === 1;
      if (!ok) return reply.code(401).send({ error: 'bad-credentials', message: 'unknown user or wrong password' });
      const created = await s.sessions.create(
        username,
        { username, loggedInAt: Date.now() },
        { ip: request.ip, userAgent: request.headers['user-agent'] ?? '' },
      );
      if (!created.created)
        return reply.code(409).send({ error: 'session-limit', message: `at most ${created.limit} sessions` });
      reply.setCookie(COOKIE, created.id, { path: '/', httpOnly: true, sameSite: 'lax' });
      return {
        instance: s.config.instance,
        user: username,
        boundTo: request.ip,
        evicted: created.evicted,
        sessions: await s.sessions.count(username),
        note:
          created.evicted > 0
            ? `the limit is 2 devices: your least recently used session was logged out`
            : 'logged in; the session lives in Redis and works on both instances',
      };
    },
  );

  app.post('/logout', async (request, reply) => {
    const id = request.cookies[COOKIE];
    const destroyed = id ? await s.sessions.destroy(id) : false;
    reply.clearCookie(COOKIE, { path: '/' });
    return { instance: s.config.instance, loggedOut: destroyed };
  });

  app.get('/me', async (request, reply) => {
    const session = await current(request, reply);
    if (!session) return reply;
    return {
      instance: s.config.instance,
      user: session.userId,
      boundTo: session.ip,
      seenFrom: request.ip,
      warnings: session.warnings,
      createdAt: new Date(session.createdAt).toISOString(),
      expiresAt: new Date(session.expiresAt).toISOString(),
    };
  });

  app.get('/me/sessions', async (request, reply) => {
    const session = await current(request, reply);
    if (!session?.userId) return reply;
    const list = await s.sessions.list(session.userId);
    return {
      instance: s.config.instance,
      user: session.userId,
      sessions: list.map((l) => ({
        ref: l.ref,
        ip: l.ip,
        lastSeenAt: new Date(l.lastSeenAt).toISOString(),
        createdAt: new Date(l.createdAt).toISOString(),
      })),
    };
  });

  app.delete<{ Params: { ref: string } }>('/me/sessions/:ref', async (request, reply) => {
    const session = await current(request, reply);
    if (!session?.userId) return reply;
    const revoked = await s.sessions.revoke(session.userId, request.params.ref);
    return reply.code(revoked ? 200 : 404).send({ instance: s.config.instance, revoked });
  });
}
