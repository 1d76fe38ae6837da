/**
 * No Cache verb enters an AsyncLocalStorage (on Node 20 the first one entered
 * slows every later promise of the process). Runs every verb that sends more
 * than one command or a script: write-back CAS, tags, invalidation markers,
 * the stampede lock, batched reads, write-through.
 */
import { createLocks } from '@stratacache/coordination';
import { watchAsyncContexts } from '@stratacache/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { cache, twoInstances } from './helpers.js';

describe('Cache verbs and AsyncLocalStorage', () => {
  let watch: ReturnType<typeof watchAsyncContexts> | undefined;
  afterEach(() => watch?.restore());

  it('no verb of two instances with a bus, tags and a stampede lock enters an async context', async () => {
    const { a, b, r1 } = await twoInstances<{ n: number }>({
      defaults: { ttl: '1m', grace: '1m' },
      tags: 'eager',
    });
    const locked = cache<{ n: number }>({
      redis: r1,
      namespace: 'locked',
      lock: createLocks(r1),
    });
    watch = watchAsyncContexts();
    await a.set('k1', { n: 1 }, { tags: ['t'] });
    expect(await b.get('k1')).toEqual({ n: 1 });
    expect(await a.getOrSet('k2', () => ({ n: 2 }), { tags: ['t'] })).toEqual({ n: 2 });
    expect(await b.getOrSet('k2', () => ({ n: -1 }))).toEqual({ n: 2 });
    expect(await Promise.all([1, 2, 3].map(() => locked.getOrSet('s', async () => ({ n: 3 }))))).toEqual([
      { n: 3 },
      { n: 3 },
      { n: 3 },
    ]);
    expect(await a.getMany(['k1', 'k2', 'k3'])).toEqual([{ n: 1 }, { n: 2 }, undefined]);
    expect((await a.write('k4', { n: 4 }, async () => {})).cached).toBe(true);
    await a.expire('k4');
    await a.delete('k1');
    await a.expireByTag(['t']);
    await a.deleteByTag(['t']);
    await a.deleteByPrefix('k');
    await a.clear();
    expect(watch.callers).toEqual([]);
  });
});
