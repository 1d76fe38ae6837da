/**
 * The Express middleware over real HTTP against real Redis: headers, 429, keys (client address
 * behind trusted proxies, IPv6 prefixes, users, custom), skip rules, cost, and each Redis-down
 * policy with the Redis paused.
 */
import express, { type Request } from 'express';
import { describe, expect, it } from 'vitest';
import { rateLimit } from '../src/express.js';
import type { HttpRateLimitOptions } from '../src/http/http-rate-limit.js';
import { client, server, unique } from './helpers.js';
import { send, serve, statuses } from './http-helpers.js';

/** An app with the middleware on every route; GET / answers the decision left in res.locals. */
async function app(options: HttpRateLimitOptions<Request>, redis = client()) {
  const limiter = rateLimit<Request>(redis, { name: unique('http'), ...options });
  const server = express();
  server.set('trust proxy', false);
  server.use((req, _res, next) => {
    const user = req.get('x-user');
    if (user) (req as Request & { user?: { id: string } }).user = { id: user };
    next();
  });
  server.use(limiter);
  server.all('/{*path}', (_req, res) => {
    res.json({ ok: true, rateLimit: res.locals.rateLimit });
  });
  const base = await serve((port, host) => server.listen(port, host));
  return { base, limiter };
}

describe('express rateLimit: headers and refusals', () => {
  it('sends the IETF and the widespread headers, then 429 with Retry-After and a JSON body', async () => {
    const { base } = await app({ limit: 3, window: '1m', policy: 'api' });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await send(`${base}/`));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((a) => a.headers['ratelimit-remaining'])).toEqual(['2', '1', '0', '0']);
    for (const a of answers) {
      expect(a.headers['ratelimit-policy']).toBe('"api";q=3;w=60');
      expect(a.headers.ratelimit).toMatch(/^"api";r=\d;t=\d+$/);
      expect(a.headers['ratelimit-limit']).toBe('3');
      const reset = Number(a.headers['ratelimit-reset']);
      expect(reset).toBeGreaterThanOrEqual(0);
      // The sliding-window counter forgets the previous window only after a second one.
      expect(reset).toBeLessThanOrEqual(120);
    }
    expect(answers[0]?.headers.ratelimit).toMatch(/^"api";r=2;/);
    expect(answers[0]?.body).toMatchObject({ ok: true, rateLimit: { allowed: true, remaining: 2, source: 'redis' } });
    const refused = answers[3] as (typeof answers)[number];
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(120); // the sliding-window counter may ask for more than one window
    expect(refused.headers['content-type']).toMatch(/application\/json/);
    expect(refused.body).toEqual({
      error: 'Too Many Requests',
      message: `Rate limit exceeded: retry in ${retryAfter} s.`,
      retryAfter,
    });
  });

  it('leaves out the header sets that are turned off, never Retry-After', async () => {
    const { base } = await app({ limit: 1, window: '1m', standardHeaders: false, legacyHeaders: false });
    const [first, second] = [await send(`${base}/`), await send(`${base}/`)];
    expect(first?.headers).toMatchObject({ ratelimit: null, 'ratelimit-policy': null, 'ratelimit-limit': null });
    expect(second?.status).toBe(429);
    expect(Number(second?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('takes a status, a body and an onLimited hook of yours', async () => {
    const seen: string[] = [];
    const { base } = await app({
      limit: 1,
      window: '1m',
      statusCode: 503,
      body: ({ retryAfterSeconds, key }) => ({ slowDown: retryAfterSeconds, key }),
      onLimited: ({ key }) => {
        seen.push(key);
        throw new Error('a broken logger does not turn the refusal into a 500');
      },
    });
    await send(`${base}/`);
    const refused = await send(`${base}/`);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ slowDown: expect.any(Number), key: 'ip:127.0.0.1' });
    expect(seen).toEqual(['ip:127.0.0.1']);
  });
});

describe('express rateLimit: keys', () => {
  it('ignores X-Forwarded-For unless proxies are trusted: every request from 127.0.0.1 shares one bucket', async () => {
    const { base } = await app({ limit: 2, window: '1m' });
    expect(await statuses(3, `${base}/`, { headers: { 'x-forwarded-for': '203.0.113.1' } })).toEqual([200, 200, 429]);
    expect((await send(`${base}/`, { headers: { 'x-forwarded-for': '203.0.113.2' } })).status).toBe(429);
  });

  it('with trustProxy: 1, believes the hop the proxy appended and not what the client wrote before it', async () => {
    const { base, limiter } = await app({ limit: 2, window: '1m', trustProxy: 1 });
    const from = (forged: string, client: string) => ({ headers: { 'x-forwarded-for': `${forged}, ${client}` } });
    expect((await send(`${base}/`, from('1.1.1.1', '203.0.113.5'))).status).toBe(200);
    expect((await send(`${base}/`, from('2.2.2.2', '203.0.113.5'))).status).toBe(200);
    expect((await send(`${base}/`, from('3.3.3.3', '203.0.113.5'))).status).toBe(429); // a forged hop changes nothing
    expect((await send(`${base}/`, from('1.1.1.1', '203.0.113.6'))).status).toBe(200); // another client
    await limiter.limiter.reset('ip:203.0.113.5'); // the key is the client's address
    expect((await send(`${base}/`, from('9.9.9.9', '203.0.113.5'))).status).toBe(200);
  });

  it('with a list of proxies, takes the first untrusted hop from the right', async () => {
    const { base } = await app({ limit: 1, window: '1m', trustProxy: ['127.0.0.1', '10.0.0.0/8'] });
    const via = (chain: string) => send(`${base}/`, { headers: { 'x-forwarded-for': chain } });
    expect((await via('203.0.113.9, 10.1.2.3')).status).toBe(200);
    expect((await via('198.51.100.1, 203.0.113.9, 10.9.9.9')).status).toBe(429); // same client, other path
    expect((await via('203.0.113.9, 198.51.100.7')).status).toBe(200); // 198.51.100.7 is not a proxy of ours
    expect((await via('8.8.8.8, 198.51.100.7, 10.0.0.1')).status).toBe(429);
  });

  it('counts IPv6 clients per /56 by default', async () => {
    const { base } = await app({ limit: 1, window: '1m', trustProxy: 1 });
    const via = (address: string) => send(`${base}/`, { headers: { 'x-forwarded-for': address } });
    expect((await via('2001:db8:1:ff00::1')).status).toBe(200);
    expect((await via('2001:db8:1:ff42:abcd::2')).status).toBe(429); // same /56
    expect((await via('2001:db8:1:fe00::1')).status).toBe(200); // another /56
    expect((await via('::ffff:203.0.113.77')).status).toBe(200);
    expect((await via('203.0.113.77')).status).toBe(429); // an IPv4-mapped address is that IPv4 address
  });

  it("key: 'user' counts each user apart and anonymous requests by address", async () => {
    const { base } = await app({ limit: 1, window: '1m', key: 'user' });
    expect((await send(`${base}/`, { headers: { 'x-user': 'ada' } })).status).toBe(200);
    expect((await send(`${base}/`, { headers: { 'x-user': 'ada' } })).status).toBe(429);
    expect((await send(`${base}/`, { headers: { 'x-user': 'grace' } })).status).toBe(200);
    expect(await statuses(2, `${base}/`)).toEqual([200, 429]);
  });

  it('a key function of yours, falling back to the address when it returns undefined', async () => {
    const { base } = await app({ limit: 1, window: '1m', key: (req) => req.get('x-api-key') });
    expect((await send(`${base}/`, { headers: { 'x-api-key': 'k1' } })).status).toBe(200);
    expect((await send(`${base}/`, { headers: { 'x-api-key': 'k1' } })).status).toBe(429);
    expect((await send(`${base}/`, { headers: { 'x-api-key': 'k2' } })).status).toBe(200);
    expect(await statuses(2, `${base}/`)).toEqual([200, 429]);
  });
});

describe('express rateLimit: skip and cost', () => {
  it('does not count skipped requests and sends them no headers', async () => {
    const { base } = await app({ limit: 1, window: '1m', skip: (req) => req.path === '/health' });
    for (let i = 0; i < 3; i++) {
      const health = await send(`${base}/health`);
      expect(health.status).toBe(200);
      expect(health.headers.ratelimit).toBeNull();
    }
    expect(await statuses(2, `${base}/`)).toEqual([200, 429]);
  });

  it('charges the cost of each request', async () => {
    const { base } = await app({ limit: 4, window: '1m', cost: (req) => (req.method === 'POST' ? 3 : 1) });
    expect((await send(`${base}/`, { method: 'POST' })).headers['ratelimit-remaining']).toBe('1');
    expect((await send(`${base}/`, { method: 'POST' })).status).toBe(429);
    expect((await send(`${base}/`)).status).toBe(200);
  });
});

describe('express rateLimit: when Redis is down', () => {
  it('decides by onRedisDown within the deadline: open, closed, insurance', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: '2s', breaker: false });
    await redis.client.ping();
    const open = await app({ limit: 1, window: '1m', onRedisDown: 'open', deadline: '150ms' }, redis);
    const closed = await app({ limit: 100, window: '1m', onRedisDown: 'closed', deadline: '150ms' }, redis);
    const insured = await app(
      { limit: 100, window: '1m', onRedisDown: 'insurance', insuranceLimit: 2, deadline: '150ms' },
      redis,
    );
    s.pause(); // frozen: connections stay open, nothing answers
    try {
      expect(await statuses(3, `${open.base}/`)).toEqual([200, 200, 200]);
      const refused = await send(`${closed.base}/`);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBe(60);
      expect(await statuses(3, `${insured.base}/`)).toEqual([200, 200, 429]);
    } finally {
      s.resume();
    }
  });
});

describe('express rateLimit: options', () => {
  it('refuses bad options with the option named', () => {
    const redis = client();
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ key: 'session' }, /^key must be/],
      [{ trustProxy: ['not-an-ip'] }, /^trustProxy/],
      [{ trustProxy: -1 }, /^trustProxy must be/],
      [{ ipv6Subnet: 0 }, /^ipv6Subnet must be/],
      [{ cost: 0 }, /^cost must be/],
      [{ statusCode: 200 }, /^statusCode must be/],
      [{ skip: true }, /^skip must be a function/],
      [{ policy: 'a"b' }, /^policy must be/],
      [{ sourceHeader: 'x source' }, /^sourceHeader must be/],
      [{ limit: 0 }, /limit/],
    ];
    for (const [options, message] of bad) {
      expect(
        () => rateLimit(redis, { limit: 1, window: '1m', ...options } as never),
        JSON.stringify(options),
      ).toThrowError(message);
    }
  });
});
