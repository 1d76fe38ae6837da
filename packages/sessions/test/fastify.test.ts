/** @fastify/session on the same store, through a real Fastify server and real HTTP requests. */
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { createFastifyStore } from '../src/fastify.js';
import { createSessionManager, generateSessionId } from '../src/index.js';
import { client, SECRET } from './helpers.js';
import { Browser } from './http.js';

declare module 'fastify' {
  interface Session {
    userId?: string;
    visits?: number;
  }
}

const apps: { close(): Promise<unknown> }[] = [];
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

async function start() {
  const sessions = createSessionManager<Record<string, unknown>>({
    redis: client(),
    secret: SECRET,
    maxSessionsPerUser: 2,
  });
  const store = createFastifyStore(sessions);
  const app = Fastify();
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    store,
    idGenerator: store.genid,
    secret: 'a-cookie-secret-of-at-least-32-characters',
    cookie: { secure: false, maxAge: 60_000 },
    saveUninitialized: false,
  });
  app.post('/login/:user', async (request) => {
    await request.session.regenerate();
    request.session.userId = (request.params as { user: string }).user;
    return { sid: request.session.sessionId };
  });
  app.get('/me', async (request) => {
    request.session.visits = (request.session.visits ?? 0) + 1;
    return { userId: request.session.userId ?? null, visits: request.session.visits };
  });
  app.post('/logout', async (request) => {
    await request.session.destroy();
    return { ok: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  apps.push(app);
  const address = app.server.address() as { port: number };
  return { sessions, base: `http://127.0.0.1:${address.port}` };
}

describe('@fastify/session store', () => {
  it('logs in, keeps data across requests, applies the per-user limit, logs out', async () => {
    const { sessions, base } = await start();
    const b = new Browser(base);
    const login = await b.request('POST', '/login/zed');
    const sid = b.sid('sessionId') as string;
    expect(login.body.sid).toBe(sid);
    expect(sid).toHaveLength(43);
    expect((await b.request('GET', '/me')).body).toEqual({ userId: 'zed', visits: 1 });
    expect((await b.request('GET', '/me')).body).toEqual({ userId: 'zed', visits: 2 });
    expect(await sessions.peek(sid)).toMatchObject({ valid: true, userId: 'zed', data: { userId: 'zed', visits: 2 } });
    // Two more devices: the oldest is evicted (evict-oldest, limit 2).
    await new Browser(base).request('POST', '/login/zed');
    await new Browser(base).request('POST', '/login/zed');
    expect(await sessions.count('zed')).toBe(2);
    expect((await b.request('GET', '/me')).body).toMatchObject({ userId: null });
    const c = new Browser(base);
    await c.request('POST', '/login/zed');
    const current = c.sid('sessionId') as string;
    await c.request('POST', '/logout');
    expect((await sessions.peek(current)).valid).toBe(false);
  });

  it('never adopts a session id it did not issue', async () => {
    const { sessions, base } = await start();
    const forged = generateSessionId();
    const b = new Browser(base);
    b.cookies.set('sessionId', forged); // unsigned: @fastify/session starts a new session
    await b.request('POST', '/login/yan');
    expect(b.sid('sessionId')).not.toBe(forged);
    expect((await sessions.peek(forged)).valid).toBe(false);
    expect(await sessions.count('yan')).toBe(1);
  });
});
