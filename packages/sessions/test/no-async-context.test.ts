/**
 * No session verb enters an AsyncLocalStorage (on Node 20 the first one
 * entered slows every later promise of the process). With two secrets (a
 * rotation) every verb runs several scripts under one budget, passed along
 * explicitly: the path that used `withBudget` before.
 */
import { watchAsyncContexts } from '@stratacache/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { manager, SECRET } from './helpers.js';

describe('session verbs and AsyncLocalStorage', () => {
  let watch: ReturnType<typeof watchAsyncContexts> | undefined;
  afterEach(() => watch?.restore());

  it('create, get, update, touch, regenerate, put and destroy under a rotation enter no async context', async () => {
    const sessions = manager<{ n: number }>({
      secret: [`new-${SECRET}`, SECRET],
      maxSessionsPerUser: 3,
    });
    watch = watchAsyncContexts();
    const created = await sessions.create('u1', { n: 1 });
    if (!created.created) throw new Error('not created');
    expect(await sessions.get(created.id)).toMatchObject({ valid: true, data: { n: 1 } });
    expect(await sessions.update(created.id, { n: 2 })).toMatchObject({ valid: true, data: { n: 2 } });
    expect(await sessions.touch(created.id)).toMatchObject({ valid: true });
    const moved = await sessions.regenerate(created.id);
    if (!moved.valid) throw new Error('not regenerated');
    expect(await sessions.put(moved.id, 'u1', { n: 3 })).toBe('saved');
    expect(await sessions.peek(moved.id)).toMatchObject({ valid: true, data: { n: 3 } });
    expect(await sessions.count('u1')).toBe(1);
    expect(await sessions.destroy(moved.id)).toBe(true);
    expect(watch.callers).toEqual([]);
  });
});
