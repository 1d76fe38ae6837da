/**
 * The windows view against windows a real `@stratacache/streams` aggregator
 * wrote: the series found by SCAN in two namespaces, a series' shape and
 * writers, its recent windows as chart data and as a table, a window's
 * dimension breakdown, sizes from ADMIN_WINDOW_SERIES, bad input, and live
 * updates over Server-Sent Events.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { parseInfo } from '@stratacache/core-client';
import { eventually } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aggregateOrders,
  type Client,
  loggedIn,
  type OrderWindows,
  startConsole,
  type TestConsole,
} from './helpers.js';

let c: TestConsole;
let admin: Client;
let orders: OrderWindows;
let clicks: OrderWindows;

beforeAll(async () => {
  c = await startConsole({ windowSeries: [{ name: 'orders-5m', sizeMs: 300_000, graceMs: 10_000 }] });
  admin = await loggedIn(c.server);
  orders = await aggregateOrders(c.redis, [
    { name: 'orders-1m', size: '1m' },
    { name: 'orders-5m', size: '5m', hop: '1m' },
  ]);
  clicks = await aggregateOrders(c.redis, [{ name: 'clicks', size: '1m' }], 'web.streams');
}, 60_000);

afterAll(async () => {
  await orders?.aggregator.stop();
  await clicks?.aggregator.stop();
  await c?.close();
});

const keysCalls = async () =>
  Number(/calls=(\d+)/.exec(parseInfo(await c.redis.client.info('commandstats')).cmdstat_keys ?? '')?.[1] ?? 0);

/** Orders in minute m of the fixture: 5 (m + 1), amounts 1..n. */
const n = (m: number) => 5 * (m + 1);

describe('the windows view', () => {
  it('lists the series found under the prefix, in every namespace, without KEYS', async () => {
    const before = await keysCalls();
    const page = await admin.get('/windows');
    expect(page.statusCode).toBe(200);
    const rows = [
      ...page.body.matchAll(
        /<tr><td><code>([^<]+)<\/code><\/td><td><a href="[^"]+">([^<]+)<\/a><\/td><td>(\d+)<\/td>/g,
      ),
    ].map((m) => [m[1], m[2], Number(m[3])]);
    expect(rows).toEqual([
      ['streams', 'orders-1m', 5],
      ['streams', 'orders-5m', 9],
      ['web.streams', 'clicks', 5],
    ]);
    expect(await keysCalls()).toBe(before);
  });

  it('serves a series’ recent windows as chart columns', async () => {
    const response = await admin.get('/api/windows?ns=streams&name=orders-1m&count=60');
    expect(response.statusCode).toBe(200);
    const data = response.json() as Record<string, number[]>;
    const minutes = [0, 1, 2, 3, 4];
    expect(data.t).toEqual(minutes.map((m) => (orders.first + m * 60_000) / 1000));
    expect(data.count).toEqual(minutes.map(n));
    expect(data['sum:amount']).toEqual(minutes.map((m) => (n(m) * (n(m) + 1)) / 2));
    expect(data['min:amount']).toEqual(minutes.map(() => 1));
    expect(data['max:amount']).toEqual(minutes.map(n));
    const two = (await admin.get('/api/windows?ns=streams&name=orders-1m&count=2')).json() as Record<string, number[]>;
    expect(two.count).toEqual([20, 25]);
  });

  it('shows a series: inferred size, writers, the windows, the newest window’s breakdown, the charts', async () => {
    const page = await admin.get('/windows?ns=streams&name=orders-1m');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('1m 0s (inferred from the window starts: tumbling windows)');
    expect(page.body).toContain('not known here (set ADMIN_WINDOW_SERIES=orders-1m=size/grace');
    expect(page.body).toMatch(/<th>distinct counts<\/th><td>user<\/td>/);
    expect(page.body).toMatch(/data-testid="partitions">.*<code>[^<]*c1[^<]*<\/code>/s);
    // Newest first: 25 records, sum 325, min 1, max 25, 3 distinct users, finality unknown without a grace.
    expect(page.body).toMatch(/<td>25<\/td><td>325<\/td><td>1<\/td><td>25<\/td><td>3<\/td><td>\?<\/td>/);
    const breakdown = /data-testid="breakdown-country">(.*?)<\/table>/s.exec(page.body)?.[1] ?? '';
    expect(breakdown).toMatch(/<code>de<\/code><\/td><td>13<\/td><td>169<\/td><td>1<\/td><td>25<\/td>/);
    expect(breakdown).toMatch(/<code>fr<\/code><\/td><td>12<\/td><td>156<\/td><td>2<\/td><td>24<\/td>/);
    expect(page.body).toContain('data-src="/api/windows?ns=streams&amp;name=orders-1m&amp;count=60"');
    expect(page.body).toContain('data-series="sum:amount"');
    expect(page.body).toContain('data-events="/windows/events?ns=streams&amp;name=orders-1m"');
  });

  it('shows the breakdown of a chosen window', async () => {
    const page = await admin.get(`/windows?ns=streams&name=orders-1m&start=${orders.first}`);
    const breakdown = /data-testid="breakdown-country">(.*?)<\/table>/s.exec(page.body)?.[1] ?? '';
    expect(breakdown).toMatch(/<code>de<\/code><\/td><td>3<\/td>/);
    expect(breakdown).toMatch(/<code>fr<\/code><\/td><td>2<\/td>/);
    const missing = await admin.get(`/windows?ns=streams&name=orders-1m&start=${orders.first - 3_600_000}`);
    expect(missing.body).toContain('No window starts at');
  });

  it('takes size and grace from ADMIN_WINDOW_SERIES, and then tells final windows from open ones', async () => {
    const page = await admin.get('/windows?ns=streams&name=orders-5m');
    expect(page.body).toContain('5m 0s (ADMIN_WINDOW_SERIES)');
    expect(page.body).toMatch(/<th>grace<\/th><td>10s<\/td>/);
    const states = [...page.body.matchAll(/<td>(final|open|\?)<\/td>\s*<td><a href="\/windows\?/g)].map((m) => m[1]);
    expect(states).toContain('final');
    expect(states).toContain('open');
    expect(states).not.toContain('?');
    const data = (await admin.get('/api/windows?ns=streams&name=orders-5m')).json() as Record<string, number[]>;
    // A 5-minute window from the first minute holds every order of the fixture.
    expect(Math.max(...(data.count ?? []))).toBe(75);
  });

  it('refuses bad input and says when a series has no windows', async () => {
    for (const url of [
      '/windows?ns=streams&name=a%20b',
      '/windows?ns=..&name=x',
      '/windows?ns=streams&name=orders-1m&count=0',
      '/windows?ns=streams&name=orders-1m&start=soon',
      '/api/windows',
      '/windows/events?ns=streams',
    ]) {
      expect((await admin.get(url)).statusCode, url).toBe(400);
    }
    const none = await admin.get('/windows?ns=streams&name=nothing-here');
    expect(none.statusCode).toBe(200);
    expect(none.body).toContain('data-testid="no-windows"');
  });

  it('streams the updates the aggregator publishes, over Server-Sent Events', async () => {
    const address = await c.server.app.listen({ host: '127.0.0.1', port: 0 });
    const url = new URL('/windows/events?ns=streams&name=orders-1m', address);
    let body = '';
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(url, { headers: { cookie: admin.cookieHeader(), accept: 'text/event-stream' } }, resolve);
      req.on('error', reject);
      req.end();
    });
    try {
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('text/event-stream');
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      await eventually(() => body.includes(': subscribed'));
      expect(c.server.context.windows.open).toBe(1);
      const start = orders.first + 4 * 60_000;
      await orders.add(start + 30_000, 100, 'it');
      await eventually(() => body.includes(`event: window\ndata: {"start":${start},"final":false}`));
    } finally {
      response.destroy();
    }
    await eventually(() => c.server.context.windows.open === 0);
  });
});
