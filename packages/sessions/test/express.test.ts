/** The express-session store through a real Express server and real HTTP requests. */
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { afterAll, describe, expect, it } from 'vitest';
import { createExpressStore } from '../src/express.js';
import { createSessionManager, generateSessionId, type SessionManagerOptions } from '../src/index.js';
import { client, SECRET, server, sleep } from './helpers.js';
import { Browser, signCookie } from './http.js';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    items?: string[];
  }
}

const COOKIE_SECRET = 'cookie-signing-secret';
const servers: { close(): void }[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

async function start(
  options: Partial<SessionManagerOptions> = {},
  cookie: session.CookieOptions = { maxAge: 60_000 },
  { withGenid = true } = {},
) {
  const sessions = createSessionManager<Record<string, unknown>>({ redis: client(), secret: SECRET, ...options });
  const store = createExpressStore(session, sessions);
  const app = express();
  app.use(
    session({
      store,
      ...(withGenid ? { genid: store.genid } : {}),
      secret: COOKIE_SECRET,
      resave: false,
      saveUninitialized: false,
      cookie,
    }),
  );
  app.post('/login/:user', (req, res, next) => {
    // A new id on login (session fixation), then the user.
    req.session.regenerate((error) => {
      if (error) return next(error);
      req.session.userId = req.params.user as string;
      // Save before answering: a refusal by the per-user limit then reaches the error handler
      // (express-session's automatic save runs after the response is written).
      req.session.save((saveError) => (saveError ? next(saveError) : res.json({ sid: req.sessionID })));
    });
  });
  app.post('/add/:item', async (req, res) => {
    const items = req.session.items ?? [];
    await sleep(Number(req.query.delay ?? 0));
    req.session.items = [...items, req.params.item as string];
    res.json({ items: req.session.items });
  });
  app.get('/me', (req, res) => {
    res.json({ userId: req.session.userId ?? null, items: req.session.items ?? [], sid: req.sessionID });
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((error) => (error ? next(error) : res.json({ ok: true })));
  });
  app.use((error: { code?: string; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
    const status = error.code === 'E_SESSION_LIMIT' ? 429 : 500;
    res.status(status).json({ code: error.code ?? 'E_UNKNOWN', message: error.message });
  });
  const listener = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  servers.push(listener);
  const base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  return { sessions, store, base, browser: () => new Browser(base) };
}

describe('one script per request', () => {
  it('a request on a session reads and slides it in one script; the touch after it needs no second', async () => {
    const s = await server();
    const redis = client({ url: s.url });
    const { sessions, browser } = await start({ redis }, { maxAge: 60_000 });
    const b = browser();
    await b.request('POST', '/login/ann');
    const sid = b.sid('connect.sid') as string;
    const before = await sessions.peek(sid);
    const calls = async () => {
      const info = (await redis.client.info('commandstats')) as string;
      return Number(/cmdstat_evalsha:calls=(\d+)/.exec(info)?.[1] ?? 0);
    };
    await sleep(20);
    const start0 = await calls();
    for (let i = 0; i < 5; i++) expect((await b.request('GET', '/me')).body).toMatchObject({ userId: 'ann' });
    expect((await calls()) - start0).toBe(5);
    // The idle timeout still slid, by the cookie's maxAge (as of the login's save, so within a few ms of it).
    const after = await sessions.peek(sid);
    if (!before.valid || !after.valid) throw new Error('the session was lost');
    expect(after.lastSeenAt).toBeGreaterThan(before.lastSeenAt);
    expect(after.expiresAt - after.lastSeenAt).toBeGreaterThan(59_000);
    expect(after.expiresAt - after.lastSeenAt).toBeLessThanOrEqual(60_000);
  });

  it('a touch the read did not cover (another timeout, or no read) still goes to Redis', async () => {
    const { sessions, store, browser } = await start({}, { maxAge: 60_000 });
    const b = browser();
    await b.request('POST', '/login/bob');
    const sid = b.sid('connect.sid') as string;
    const call = (fn: (cb: (e: Error | null) => void) => void) =>
      new Promise<void>((resolve, reject) => fn((e) => (e ? reject(e) : resolve())));
    // Another timeout right after a read: the touch is sent and sets it.
    const data = await new Promise<Record<string, unknown> | null>((resolve, reject) =>
      store.get(sid, (e, d) => (e ? reject(e) : resolve(d as Record<string, unknown> | null))),
    );
    expect(data).toMatchObject({ userId: 'bob' });
    await call((cb) => store.touch(sid, { cookie: { maxAge: 120_000, originalMaxAge: 120_000 } }, cb));
    let seen = await sessions.peek(sid);
    if (!seen.valid) throw new Error('the session was lost');
    expect(seen.expiresAt - seen.lastSeenAt).toBe(120_000);
    // No read before it: the touch is sent.
    await call((cb) => store.touch(sid, { cookie: { maxAge: 30_000, originalMaxAge: 30_000 } }, cb));
    seen = await sessions.peek(sid);
    if (!seen.valid) throw new Error('the session was lost');
    expect(seen.expiresAt - seen.lastSeenAt).toBe(30_000);
  });
});

describe('express-session store', () => {
  it('logs in with a regenerated id from the manager, keeps data, logs out', async () => {
    const { sessions, browser } = await start();
    const b = browser();
    expect((await b.request('GET', '/me')).body).toMatchObject({ userId: null });
    expect(b.cookies.size).toBe(0); // saveUninitialized: false
    await b.request('POST', '/add/pre');
    const anonymous = b.sid('connect.sid') as string;
    const login = await b.request('POST', '/login/ann');
    const sid = b.sid('connect.sid') as string;
    expect(login.body.sid).toBe(sid);
    expect(sid).not.toBe(anonymous);
    expect(sid).toHaveLength(43);
    expect((await sessions.peek(anonymous)).valid).toBe(false);
    expect((await b.request('GET', '/me')).body).toMatchObject({ userId: 'ann', sid });
    expect(await sessions.count('ann')).toBe(1);
    const stored = await sessions.peek(sid);
    expect(stored).toMatchObject({ valid: true, userId: 'ann', data: { userId: 'ann' } });
    await b.request('POST', '/logout');
    expect((await sessions.peek(sid)).valid).toBe(false);
    expect(await sessions.count('ann')).toBe(0);
  });

  it('ignores a forged session cookie and issues a fresh id', async () => {
    const { sessions, store, base } = await start();
    const forged = generateSessionId();
    const b = new Browser(base);
    b.cookies.set('connect.sid', signCookie(forged, COOKIE_SECRET));
    await b.request('POST', '/add/x');
    const sid = b.sid('connect.sid') as string;
    expect(sid).not.toBe(forged);
    expect((await sessions.peek(sid)).valid).toBe(true);
    expect((await sessions.peek(forged)).valid).toBe(false);
    // And the store itself refuses to create a session under an id it did not issue.
    await new Promise<void>((resolve, reject) =>
      store.set(forged, { cookie: { maxAge: 1000 }, userId: 'mallory' }, (e) => (e ? reject(e) : resolve())),
    );
    expect((await sessions.peek(forged)).valid).toBe(false);
    expect(await sessions.count('mallory')).toBe(0);
  });

  it('two parallel requests on one session: both answered, one session, absolute timeout kept', async () => {
    const { sessions, browser } = await start();
    const b = browser();
    await b.request('POST', '/login/bea');
    const sid = b.sid('connect.sid') as string;
    const before = await sessions.peek(sid);
    const [x, y] = await Promise.all([b.request('POST', '/add/a?delay=150'), b.request('POST', '/add/b?delay=50')]);
    expect([x.status, y.status]).toEqual([200, 200]);
    const after = await sessions.peek(sid);
    if (!before.valid || !after.valid) throw new Error('session lost');
    // express-session's known race: each request saves the whole session it read, so the last
    // save wins and one item is lost. The store neither duplicates nor moves the session.
    expect(['a', 'b']).toContain((after.data.items as string[])[0]);
    expect(after.data.items).toHaveLength(1);
    expect(after.absoluteExpiresAt).toBe(before.absoluteExpiresAt);
    expect(after.createdAt).toBe(before.createdAt);
    expect(await sessions.count('bea')).toBe(1);
  });

  it('a request racing a logout cannot bring the session back', async () => {
    const { sessions, browser } = await start();
    const b = browser();
    await b.request('POST', '/login/cy');
    const sid = b.sid('connect.sid') as string;
    const slow = b.request('POST', '/add/late?delay=200'); // reads the session, saves after the logout
    await sleep(50);
    await b.request('POST', '/logout');
    expect((await slow).status).toBe(200);
    expect((await sessions.peek(sid)).valid).toBe(false);
    expect(await sessions.count('cy')).toBe(0);
  });

  it('honours cookie maxAge as the idle timeout', async () => {
    const { sessions, browser } = await start({ absoluteTimeout: '1h', idleTimeout: '30m' }, { maxAge: 400 });
    const b = browser();
    await b.request('POST', '/login/dee');
    const sid = b.sid('connect.sid') as string;
    const s = await sessions.peek(sid);
    if (!s.valid) throw new Error('no session');
    // The cookie's time left when the store saw it: 400 ms less what the request took (1 ms or more on a
    // loaded machine), never more, and far below the manager's 30 min idle timeout.
    expect(s.expiresAt - s.lastSeenAt).toBeLessThanOrEqual(400);
    expect(s.expiresAt - s.lastSeenAt).toBeGreaterThan(300);
    await sleep(600);
    expect((await sessions.peek(sid)).valid).toBe(false);
    expect((await b.request('GET', '/me')).body).toMatchObject({ userId: null });
  });

  it('keeps the absolute timeout however long the cookie and however active the user', async () => {
    const { sessions, browser } = await start({ absoluteTimeout: 1200, idleTimeout: 1000 }, { maxAge: 86_400_000 });
    const b = browser();
    await b.request('POST', '/login/eve');
    const sid = b.sid('connect.sid') as string;
    const s = await sessions.peek(sid);
    if (!s.valid) throw new Error('no session');
    expect(s.expiresAt).toBe(s.absoluteExpiresAt); // a day-long cookie is capped
    let active = 0;
    while ((await b.request('GET', '/me')).body.userId === 'eve') {
      active++;
      await sleep(150);
    }
    expect(active).toBeGreaterThan(2);
    expect((await sessions.peek(sid)).valid).toBe(false);
  });

  it('fails the first login loudly when express-session is set up without genid: store.genid', async () => {
    // It used to answer 200 and store nothing: express-session's own ids are not the store's.
    const { sessions, browser } = await start({}, { maxAge: 60_000 }, { withGenid: false });
    const b = browser();
    const login = await b.request('POST', '/login/gil');
    expect(login.status).toBe(500);
    expect(login.body).toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringMatching(/Pass genid: store\.genid to express-session/),
    });
    expect(await sessions.count('gil')).toBe(0);
    expect((await sessions.stats()).active).toBe(0);
    // A later request's automatic save fails the same way (express-session reports it after the
    // response, to next()): still nothing stored.
    await b.request('POST', '/add/x');
    expect((await sessions.stats()).active).toBe(0);
  });

  it("refuses a login over the limit with 'reject' (SessionLimitError -> 429)", async () => {
    const { sessions, base } = await start({ maxSessionsPerUser: 1, onLimit: 'reject' });
    expect((await new Browser(base).request('POST', '/login/fay')).status).toBe(200);
    expect((await new Browser(base).request('POST', '/login/fay')).body).toMatchObject({ code: 'E_SESSION_LIMIT' });
    expect(await sessions.count('fay')).toBe(1);
  });

  it('all, length and clear', async () => {
    const { sessions, store, browser } = await start({ namespace: 'exp-all' });
    await browser().request('POST', '/login/g1');
    await browser().request('POST', '/login/g2');
    const call = <R>(fn: (cb: (e?: unknown, r?: R) => void) => void) =>
      new Promise<R>((resolve, reject) => fn((e, r) => (e ? reject(e) : resolve(r as R))));
    expect(await call<number>((cb) => store.length(cb))).toBe(2);
    const all = await call<Record<string, unknown>[]>((cb) => store.all(cb));
    expect(all.map((s) => s.userId).sort()).toEqual(['g1', 'g2']);
    await call((cb) => store.clear(cb));
    expect(await call<number>((cb) => store.length(cb))).toBe(0);
    expect(await sessions.count('g1')).toBe(0);
  });
});
