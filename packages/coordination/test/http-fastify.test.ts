/**
 * The Fastify hook over real HTTP against real Redis: on every route and per route, headers and
 * 429, skip, keys behind a trusted proxy, and the Redis-down policy.
 */
import Fastify, { type FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { rateLimit } from '../src/fastify.js';
import type { HttpRateLimitOptions } from '../src/http/http-rate-limit.js';
import { client, server, unique } from './helpers.js';
import { closeLater, send, statuses } from './http-helpers.js';

async function app(options: HttpRateLimitOptions<FastifyRequest>, redis = client()) {
  const fastify = Fastify();
  const hook = rateLimit<FastifyRequest>(redis, { name: unique('fastify'), ...options });
  fastify.addHook('onRequest', hook);
  fastify.get('/', async () => ({ ok: true }));
  fastify.get('/health', async () => ({ ok: true }));
  const strict = rateLimit<FastifyRequest>(redis, { name: unique('search'), limit: 1, window: '1m', policy: 'search' });
  fastify.get('/search', { onRequest: strict }, async () => ({ ok: true }));
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  closeLater(() => fastify.close());
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `http://127.0.0.1:${port}`;
}

describe('fastify rateLimit', () => {
  it('sends the headers, then 429 with Retry-After and a JSON body; a route hook adds its own policy', async () => {
    const base = await app({ limit: 2, window: '30s', policy: 'api' });
    const answers = [await send(`${base}/`), await send(`${base}/`), await send(`${base}/`)];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(answers.map((a) => a.headers['ratelimit-remaining'])).toEqual(['1', '0', '0']);
    expect(answers[0]?.headers['ratelimit-policy']).toBe('"api";q=2;w=30');
    expect(answers[0]?.headers.ratelimit).toMatch(/^"api";r=1;t=\d+$/);
    const refused = answers[2] as (typeof answers)[number];
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(refused.headers['content-type']).toMatch(/application\/json/);
    expect(refused.body).toEqual({ error: 'Too Many Requests', message: expect.any(String), retryAfter });

    const fresh = await app({ limit: 100, window: '1m' });
    const search = [await send(`${fresh}/search`), await send(`${fresh}/search`)];
    expect(search.map((a) => a.status)).toEqual([200, 429]);
    // Both hooks ran on the route; the route's own headers are the last set.
    expect(search[0]?.headers['ratelimit-policy']).toBe('"search";q=1;w=60');
  });

  it('does not count skipped requests, and keys by the hop a trusted proxy appended', async () => {
    const base = await app({ limit: 1, window: '1m', trustProxy: 1, skip: (request) => request.url === '/health' });
    expect(await statuses(3, `${base}/health`)).toEqual([200, 200, 200]);
    const from = (client: string) => ({ headers: { 'x-forwarded-for': `6.6.6.6, ${client}` } });
    expect((await send(`${base}/`, from('203.0.113.20'))).status).toBe(200);
    expect((await send(`${base}/`, from('203.0.113.20'))).status).toBe(429);
    expect((await send(`${base}/`, from('203.0.113.21'))).status).toBe(200);
  });

  it("with Redis frozen, 'closed' refuses within the deadline", async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: '2s', breaker: false });
    await redis.client.ping();
    const base = await app({ limit: 100, window: '1m', onRedisDown: 'closed', deadline: '150ms' }, redis);
    s.pause();
    try {
      const refused = await send(`${base}/`);
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('60');
    } finally {
      s.resume();
    }
  });

  it('with sourceHeader, says who decided while Redis is frozen, and says nothing while Redis decides', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: '2s', breaker: false });
    await redis.client.ping();
    const options = { limit: 100, window: '1m', deadline: '150ms', sourceHeader: 'X-RateLimit-Source' } as const;
    const insured = await app({ ...options, insuranceLimit: 1 }, redis);
    const open = await app({ ...options, onRedisDown: 'open' }, redis);
    const plain = await app({ limit: 100, window: '1m', deadline: '150ms', onRedisDown: 'open' }, redis);
    const counted = await send(`${insured}/`);
    expect(counted.status).toBe(200);
    expect(counted.headers['x-ratelimit-source']).toBeNull();
    s.pause(); // frozen: connections stay open, nothing answers
    try {
      const [first, second] = [await send(`${insured}/`), await send(`${insured}/`)];
      expect([first?.status, second?.status]).toEqual([200, 429]);
      expect(first?.headers['x-ratelimit-source']).toBe('insurance');
      expect(second?.headers['x-ratelimit-source']).toBe('insurance');
      expect(Number(second?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await send(`${open}/`)).headers['x-ratelimit-source']).toBe('fail-open');
      // Off by default: the same decision without the option sends no such header.
      const unmarked = await send(`${plain}/`);
      expect(unmarked.status).toBe(200);
      expect(unmarked.headers['x-ratelimit-source']).toBeNull();
    } finally {
      s.resume();
    }
  });

  it('refuses a sourceHeader that is not a header name, or names a header it sets itself (E_CONFIG)', () => {
    const redis = client();
    for (const sourceHeader of [true, '', 'x source', 'x:source', 'Retry-After', 'ratelimit-remaining', 5]) {
      expect(
        () => rateLimit(redis, { limit: 1, window: '1m', sourceHeader } as never),
        JSON.stringify(sourceHeader),
      ).toThrowError(
        expect.objectContaining({ code: 'E_CONFIG', message: expect.stringMatching(/^sourceHeader must be/) }),
      );
    }
    expect(() => rateLimit(redis, { limit: 1, window: '1m', sourceHeader: false })).not.toThrow();
  });
});
