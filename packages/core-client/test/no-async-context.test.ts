/**
 * No verb of core-client enters an AsyncLocalStorage: on Node 20 the first one
 * entered in a process slows every later promise of the process (about 2.5x per
 * promise in bench/core-client/als-cost.mjs). Budgets travel explicitly
 * instead; only the public `withBudget()` opts into an async context.
 */
import { watchAsyncContexts } from '@stratacache/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { defineScript, type StratacacheError, sendWithin } from '../src/index.js';
import { client, server } from './helpers.js';

const touch = defineScript('no-als-touch', "return redis.call('SET', KEYS[1], ARGV[1])", 1);

describe('budgets without AsyncLocalStorage', () => {
  let watch: ReturnType<typeof watchAsyncContexts> | undefined;
  afterEach(() => watch?.restore());

  it('run, runScript, getMany, setMany, unlinkMatching, health and scan enter no async context', async () => {
    const redis = client();
    const keys = redis.keys('als');
    watch = watchAsyncContexts();
    const budget = redis.budget('2s');
    await redis.run('set', (c) => c.set(keys.key('k', 'a'), '1'), { budget });
    await redis.runScript(touch, [keys.key('k', 'b')], ['2']);
    await redis.runScript(touch, [keys.key('k', 'c')], ['3'], { budget });
    await redis.setMany([{ key: keys.key('k', 'd'), value: '4', ttl: '1m' }]);
    expect((await redis.getMany([keys.key('k', 'a'), keys.key('k', 'd')], { budget })).map(String)).toEqual(['1', '4']);
    expect((await redis.health()).ok).toBe(true);
    for await (const _ of redis.scan(keys.all())) void _;
    expect(await redis.unlinkMatching(keys.all(), { budget })).toBe(4);
    expect(watch.callers).toEqual([]);
    // The watch sees what it should: the one API that does use an async context.
    await redis.withBudget(async () => redis.run('ping', (c) => c.ping()));
    expect(watch.entered).toBe(1);
  });

  it('a command sent after an await is bounded through the budget run() hands its callback', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 5000, breaker: false });
    expect(await redis.client.ping()).toBe('PONG');
    s.pause();
    try {
      let secondSent = false;
      const started = performance.now();
      const error = await redis
        .run(
          'two',
          async (c, budget) => {
            await c.get('a').catch(() => undefined);
            return sendWithin(budget, () => {
              secondSent = true;
              return c.set('b', 'v');
            });
          },
          { budget: redis.budget(400) },
        )
        .catch((e: StratacacheError) => e);
      // The GET used the whole budget, so the SET is refused unsent rather than waiting 5 s.
      expect(error).toMatchObject({ code: 'E_TIMEOUT', context: { kind: 'budget', sent: false } });
      expect(secondSent).toBe(true);
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      s.resume();
    }
  });
});
