/**
 * On a three-master Redis Cluster: the login (sessions, limiter, audit) works,
 * the key browser pages through every master by cursor, the overview sums the
 * masters and says so, tags say they are lazy there, and window series
 * written by a real streams aggregator are found and charted.
 */
import { createRedis, type StrataRedis } from '@stratacache/core-client';
import { createCache } from '@stratacache/patterns';
import { type RedisClusterHandle, startRedisCluster } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanNodes } from '../src/scan.js';
import { aggregateOrders, type Client, loggedIn, startConsole, type TestConsole } from './helpers.js';

let cluster: RedisClusterHandle;
let redis: StrataRedis;
let c: TestConsole;
let admin: Client;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  redis = createRedis({ clusterNodes: [...cluster.seeds], prefix: 'cl', env: {} });
  await redis.client.ping();
  c = await startConsole({ redis });
  admin = await loggedIn(c.server);
}, 60_000);

afterAll(async () => {
  await c?.server.close();
  await redis?.close();
  await cluster?.stop();
});

describe('on Redis Cluster', () => {
  it('pages through the keys of every master by cursor', async () => {
    for (let i = 0; i < 90; i++) await redis.client.set(`cl:spread:k:${i}`, String(i));
    const seen = new Set<string>();
    let response = await admin.get('/keys?ns=spread&kind=k');
    expect(response.body).toContain('Cluster: scanning 3 masters');
    for (let page = 0; page < 30; page++) {
      for (const m of response.body.matchAll(/class="key" href="\/keys\/view\?k=([A-Za-z0-9_-]+)"/g))
        seen.add(Buffer.from(m[1] as string, 'base64url').toString());
      const next = /hx-get="(\/keys\?[^"]+cursor=[^"]+)"/.exec(response.body)?.[1];
      if (!next) break;
      response = await admin.get(next.replaceAll('&amp;', '&'), { 'hx-request': 'true' });
    }
    expect(seen.size).toBe(90);
  });

  it('sums the masters on the overview and says what it cannot show', async () => {
    const overview = await admin.get('/');
    expect(overview.statusCode).toBe(200);
    expect(overview.body.match(/<td>master<\/td>/g)?.length).toBe(3);
    expect(overview.body).toContain('Cluster: every figure and chart sums the masters');
    const cache = createCache({ redis, defaults: { ttl: '5m' } });
    await cache.set('a', 1, { tags: ['t1'] });
    const tags = await admin.get('/tags?ns=cache');
    expect(tags.body).toContain('Cluster: tags are lazy');
    expect(tags.body).toContain('<code>t1</code>');
    cache.close();
    const view = await admin.get(`/keys/view?k=${Buffer.from('cl:cache:e:a').toString('base64url')}`);
    expect(view.body).toContain('data-testid="entry-header"');
  });

  it('finds window series on every master and reads their windows', async () => {
    // Names whose hash tags fall in the slot ranges of three different masters.
    const names = ['orders-1m', 'orders-3m', 'orders-10m'];
    const orders = await aggregateOrders(redis, [
      { name: 'orders-1m', size: '1m' },
      { name: 'orders-3m', size: '3m' },
      { name: 'orders-10m', size: '10m' },
    ]);
    try {
      const holding = await Promise.all(
        scanNodes(redis).map(
          async (node) =>
            ((await node.scan('0', 'MATCH', 'cl:streams:win:*:idx', 'COUNT', 10_000))[1] as string[]).length,
        ),
      );
      expect(holding).toEqual([1, 1, 1]);
      const list = await admin.get('/windows');
      expect(list.statusCode).toBe(200);
      for (const name of names) expect(list.body).toContain(`>${name}</a>`);
      const data = (await admin.get('/api/windows?ns=streams&name=orders-1m')).json() as { count: number[] };
      expect(data.count).toEqual([5, 10, 15, 20, 25]);
      const page = await admin.get('/windows?ns=streams&name=orders-1m');
      expect(page.body).toMatch(/<th>distinct counts<\/th><td>user<\/td>/);
      expect(page.body).toContain('data-testid="breakdown-country"');
    } finally {
      await orders.aggregator.stop();
    }
  });
});
