/**
 * The security model, route by route, through `inject()`: every route refuses
 * an anonymous caller, every write route refuses the read-only role, every
 * state-changing route refuses a missing or wrong CSRF token and a foreign
 * Origin, the audit log records writes, and the login refuses empty and wrong
 * passwords, rate limits guesses and never starts open on another interface.
 */
import { ConfigError } from '@stratacache/core-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAdminOptions } from '../src/config.js';
import { hashPassword, parsePasswordHash, verifyPassword } from '../src/password.js';
import { ADMIN_PASSWORD, Client, loggedIn, startConsole, type TestConsole, testHashes } from './helpers.js';

let c: TestConsole;
beforeAll(async () => {
  c = await startConsole();
});
afterAll(async () => {
  await c?.close();
});

/** A request for `route` with its parameters filled in (the values do not matter to the guards). */
function sample(url: string): string {
  return url.replace('*', 'app.css');
}
const FORM = {
  k: Buffer.from('x').toString('base64url'),
  ns: 'cache',
  tag: 't',
  mode: 'delete',
  user: 'u',
  ref: 'r'.repeat(43),
  name: 'n',
  token: 't',
  limiter: 'l',
  id: '1-1',
  ttl: '10',
  confirm: 'yes',
  prefix: 'p',
};

describe('every route', () => {
  it('lists the routes it guards', () => {
    const urls = c.server.routes.map((r) => `${r.method} ${r.url}`);
    for (const expected of [
      'GET /',
      'GET /keys',
      'POST /keys/ttl',
      'POST /keys/delete',
      'POST /tags/invalidate',
      'POST /sessions/revoke',
      'POST /coordination/locks/release',
      'POST /write-behind/dead/retry',
      'GET /feed/events',
      'GET /windows',
      'GET /windows/events',
      'GET /api/windows',
      'GET /audit',
    ]) {
      expect(urls).toContain(expected);
    }
  });

  it('refuses an anonymous caller on every route but the login and static files', async () => {
    const anonymous = new Client(c.server);
    await anonymous.get('/login'); // a session with a valid CSRF token: the refusal must come from the login check
    for (const route of c.server.routes) {
      const response =
        route.method === 'GET' ? await anonymous.get(sample(route.url)) : await anonymous.post(sample(route.url), FORM);
      if (route.access === 'public' || route.url.startsWith('/static/')) {
        expect(response.statusCode, `${route.method} ${route.url}`).toBeLessThan(500);
        continue;
      }
      if (route.method === 'GET' && !route.url.startsWith('/api/')) {
        expect(response.statusCode, `${route.method} ${route.url}`).toBe(303);
        expect(response.headers.location).toMatch(/^\/login\?next=/);
      } else {
        expect(response.statusCode, `${route.method} ${route.url}`).toBe(401);
      }
    }
  });

  it('refuses the read-only role on every write route, and lets it read', async () => {
    const viewer = await loggedIn(c.server, 'viewer');
    const writes = c.server.routes.filter((r) => r.access === 'write');
    expect(writes.length).toBeGreaterThanOrEqual(10);
    for (const route of writes) {
      const response =
        route.method === 'GET' ? await viewer.get(sample(route.url)) : await viewer.post(sample(route.url), FORM);
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(403);
      expect(response.body).toContain('read-only role cannot change anything');
    }
    const overview = await viewer.get('/');
    expect(overview.statusCode).toBe(200);
    expect(overview.body).toContain('viewer (read-only)');
    // Nothing the viewer did reached the audit log: the refusals came before any action.
    const audit = await c.server.context.audit.recent(50);
    expect(audit.filter((e) => e.who === 'viewer')).toEqual([]);
  });

  it('refuses a missing or wrong CSRF token on every state-changing route', async () => {
    const admin = await loggedIn(c.server);
    const posts = c.server.routes.filter((r) => r.method === 'POST' && r.url !== '/login');
    for (const route of posts) {
      const missing = await admin.request({ method: 'POST', url: route.url, form: FORM });
      expect(missing.statusCode, `${route.url} without a token`).toBe(403);
      expect(missing.body).toMatch(/csrf/i);
      const wrong = await admin.post(route.url, { ...FORM, _csrf: 'bm90LWEtdG9rZW4-bm90LWEtdG9rZW4' });
      expect(wrong.statusCode, `${route.url} with a wrong token`).toBe(403);
    }
    // A token of another session does not pass either.
    const other = await loggedIn(c.server);
    const stolen = await admin.post('/keys/ttl', { ...FORM, _csrf: other.csrf ?? '' });
    expect(stolen.statusCode).toBe(403);
    // The login form is protected too.
    const anonymous = new Client(c.server);
    const login = await anonymous.request({
      method: 'POST',
      url: '/login',
      form: { user: 'admin', password: ADMIN_PASSWORD },
    });
    expect(login.statusCode).toBe(403);
  });

  it('refuses a state-changing request from another origin, or without an Origin, before anything runs', async () => {
    const admin = await loggedIn(c.server);
    const key = `${c.prefix}:cache:e:kept`;
    await c.redis.client.set(key, 'v');
    const form = { k: Buffer.from(key).toString('base64url') };
    const foreign = await admin.post('/keys/delete', form, { origin: 'https://evil.example' });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.body).toContain('Cross-origin request refused');
    const none = await admin.request({
      method: 'POST',
      url: '/keys/delete',
      form: { ...form, _csrf: admin.csrf ?? '' },
      headers: { origin: '' },
    });
    expect(none.statusCode).toBe(403);
    expect(await c.redis.client.exists(key)).toBe(1);
    const same = await admin.post('/keys/delete', form);
    expect(same.statusCode).toBe(303);
    expect(await c.redis.client.exists(key)).toBe(0);
  });

  it('answers only to loopback host names on a loopback interface (no DNS rebinding)', async () => {
    const response = await c.server.app.inject({
      method: 'GET',
      url: '/login',
      headers: { host: 'attacker.example:8420' },
    });
    expect(response.statusCode).toBe(421);
    const ok = await c.server.app.inject({ method: 'GET', url: '/login', headers: { host: '127.0.0.1:8420' } });
    expect(ok.statusCode).toBe(200);
  });

  it('sets SameSite=Strict, HttpOnly cookies, a strict CSP and no-store on pages', async () => {
    const response = await new Client(c.server).get('/login');
    const cookie = String(response.headers['set-cookie']);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(response.body).not.toMatch(/\son[a-z]+=/i);
  });
});

describe('the audit log', () => {
  it('records who did what to which target, for each write', async () => {
    const admin = await loggedIn(c.server);
    const key = `${c.prefix}:cache:e:audited`;
    await c.redis.client.set(key, 'v');
    const k = Buffer.from(key).toString('base64url');
    expect((await admin.post('/keys/ttl', { k, ttl: '120' })).statusCode).toBe(303);
    const ttl = await c.redis.client.pttl(key);
    expect(ttl).toBeGreaterThan(100_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
    expect((await admin.post('/keys/delete', { k })).statusCode).toBe(303);
    const entries = await c.server.context.audit.recent(10);
    const mine = entries.filter((e) => e.target === key);
    expect(mine.map((e) => e.action)).toEqual(['key.delete', 'key.ttl']);
    expect(mine[1]).toMatchObject({ who: 'admin', role: 'admin', detail: '120s', result: 'requested' });
    expect(mine[0]?.ip).toBeTruthy();
    expect(Math.abs((mine[0]?.at ?? 0) - Date.now())).toBeLessThan(60_000);
    const page = await admin.get('/audit');
    expect(page.body).toContain('key.delete');
  });

  it('records a failed action a second time, with its error', async () => {
    const admin = await loggedIn(c.server);
    // A lock that is not held: the release is refused, and the log says it was asked for.
    const response = await admin.post('/coordination/locks/release', { name: 'nobody-holds-this', token: 'abc' });
    expect(response.statusCode).toBe(409);
    const [entry] = await c.server.context.audit.recent(1);
    expect(entry).toMatchObject({ action: 'lock.force-release', target: 'nobody-holds-this', result: 'requested' });
  });
});

describe('the login', () => {
  it('refuses an empty password, a wrong one and an unknown user, and accepts the right one', async () => {
    for (const [user, password] of [
      ['admin', ''],
      ['admin', 'wrong-password-of-some-length'],
      ['nobody', ADMIN_PASSWORD],
      ['', ''],
    ] as const) {
      const client = new Client(c.server);
      const response = await client.login(user, password);
      expect(response.statusCode, `${user}/${password}`).toBe(401);
      expect((await client.get('/keys')).statusCode).toBe(303);
    }
    const client = new Client(c.server);
    expect((await client.login('admin', ADMIN_PASSWORD)).statusCode).toBe(303);
    expect((await client.get('/keys')).statusCode).toBe(200);
  });

  it('gives a new session id at login and ends the session at logout', async () => {
    const client = new Client(c.server);
    const first = await client.get('/login');
    const before = first.cookies.find((k) => k.name === 'strata_admin')?.value;
    const login = await client.post('/login', { user: 'admin', password: ADMIN_PASSWORD });
    const after = login.cookies.find((k) => k.name === 'strata_admin')?.value;
    expect(before).toBeTruthy();
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
    await client.get('/');
    expect((await client.post('/logout', {})).statusCode).toBe(303);
    expect((await client.get('/keys')).statusCode).toBe(303);
  });

  it('never matches an empty password, whatever the hash', async () => {
    const hash = parsePasswordHash(await hashPassword('a-real-password-here', { N: 1024 }), 'test');
    expect(await verifyPassword('', hash)).toBe(false);
    expect(await verifyPassword(undefined, hash)).toBe(false);
    expect(await verifyPassword('a-real-password-here', hash)).toBe(true);
    await expect(hashPassword('')).rejects.toThrow(/at least 12/);
  });

  it('is rate limited per client address by the coordination limiter', async () => {
    const limited = await startConsole({ loginLimit: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const client = new Client(limited.server);
        statuses.push((await client.login('admin', 'wrong-password-of-some-length')).statusCode);
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      // Even the right password waits now.
      const client = new Client(limited.server);
      const response = await client.login('admin', ADMIN_PASSWORD);
      expect(response.statusCode).toBe(429);
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });

  it('prints a one-time password when none is configured on loopback, and it logs in', async () => {
    const otp = await startConsole({ passwordHash: undefined, readonlyPasswordHash: undefined });
    try {
      const password = otp.server.oneTimePassword;
      expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      const client = new Client(otp.server);
      expect((await client.login('admin', '')).statusCode).toBe(401);
      expect((await client.login('admin', password as string)).statusCode).toBe(303);
      expect((await client.get('/')).body).toContain('admin (admin)');
    } finally {
      await otp.close();
    }
  });

  it('refuses to listen on another interface without credentials, and says how to fix it', async () => {
    expect(() => resolveAdminOptions({ host: '0.0.0.0' }, {})).toThrow(ConfigError);
    expect(() => resolveAdminOptions({}, { ADMIN_HOST: '192.168.1.10' })).toThrow(/ADMIN_PASSWORD_HASH/);
    const [hash] = await testHashes();
    const options = resolveAdminOptions({}, { ADMIN_HOST: '0.0.0.0', ADMIN_PASSWORD_HASH: hash });
    expect(options.loopback).toBe(false);
    expect(options.cookieSecure).toBe(true);
    expect(() => resolveAdminOptions({}, { ADMIN_PASSWORD_HASH: 'plaintext-password' })).toThrow(/hash-password/);
    expect(() => resolveAdminOptions({}, { ADMIN_SESSION_SECRET: 'short' })).toThrow(/32 characters/);
  });
});
