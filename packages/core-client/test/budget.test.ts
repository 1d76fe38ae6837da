/**
 * One time budget per call: a call of several commands in a row answers
 * within one timeout with Redis frozen, not one timeout per command, and a
 * command the budget cannot cover is not sent.
 */
import { describe, expect, it } from 'vitest';
import type { StratacacheError } from '../src/index.js';
import { client, server } from './helpers.js';

const TIMEOUT = 600;

describe('a time budget shared by the commands of one call', () => {
  it('with Redis frozen (SIGSTOP), a two-command call fails within one budget; its second command is never sent', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: TIMEOUT, breaker: false });
    expect(await redis.client.ping()).toBe('PONG');
    s.pause();
    try {
      let secondSent = false;
      const started = performance.now();
      const errors = await redis.withBudget(async () => {
        const first = await redis.run('get', (c) => c.get('a')).catch((e: StratacacheError) => e);
        const second = await redis
          .run('set', (c) => {
            secondSent = true;
            return c.set('b', 'v');
          })
          .catch((e: StratacacheError) => e);
        return [first, second];
      });
      const elapsed = performance.now() - started;
      expect(errors[0]).toMatchObject({ code: 'E_TIMEOUT', context: { sent: true } });
      expect(errors[1]).toMatchObject({ code: 'E_TIMEOUT', context: { kind: 'budget', sent: false } });
      expect((errors[1] as Error).message).toMatch(
        /time budget of 600 ms ran out before set could be sent .* set was not sent, so it did not run/,
      );
      expect(secondSent).toBe(false);
      // One budget, not two timeouts (2 x 600 ms); the slack is for a busy machine.
      expect(elapsed).toBeLessThan(2 * TIMEOUT - 100);
    } finally {
      s.resume();
    }
  });

  it('without a budget, the same call waits one timeout per command', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: TIMEOUT, breaker: false });
    expect(await redis.client.ping()).toBe('PONG');
    s.pause();
    try {
      const started = performance.now();
      await redis.run('get', (c) => c.get('a')).catch(() => {});
      await redis.run('set', (c) => c.set('b', 'v')).catch(() => {});
      // Timers never fire early: this is the lower bound the budget removes.
      expect(performance.now() - started).toBeGreaterThanOrEqual(2 * TIMEOUT - 20);
    } finally {
      s.resume();
    }
  });

  it('bounds every command inside run(fn, { budget }), and says which limit a sent command hit', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 5000, breaker: false });
    expect(await redis.client.ping()).toBe('PONG');
    s.pause();
    try {
      const budget = redis.budget(300);
      const error = await redis
        .run('mget', (c) => Promise.all([c.get('a'), c.get('b')]), { budget })
        .catch((e: StratacacheError) => e);
      expect(error).toMatchObject({ code: 'E_TIMEOUT', context: { sent: true } });
      expect((error as Error).message).toMatch(/did not answer mget within its time budget \(300 ms\)/);
      expect(budget.expired).toBe(true);
      const late = await redis.run('get', (c) => c.get('c'), { budget }).catch((e: StratacacheError) => e);
      expect(late).toMatchObject({ code: 'E_TIMEOUT', context: { kind: 'budget', sent: false } });
    } finally {
      s.resume();
    }
  });

  it('leaves a healthy call alone, refuses a bad budget, and never lets an inner budget extend an outer one', async () => {
    const redis = client();
    const budget = redis.budget('1s');
    expect(budget.totalMs).toBe(1000);
    expect(await redis.run('ping', (c) => c.ping(), { budget })).toBe('PONG');
    expect(budget.remainingMs()).toBeGreaterThan(0);
    expect(() => redis.budget(0)).toThrowError(/budget must be more than 0 ms; got 0/);
    const outer = redis.budget(50);
    const inner = redis.budget(60_000);
    expect(inner.shorter(outer)).toBe(outer);
  });
});

describe('a stalled event loop', () => {
  it('does not turn replies that arrived during the stall into timeouts, nor open the breaker', async () => {
    // Timers run before I/O: with ioredis's own timer, every command in flight when the loop stalled past
    // commandTimeout was rejected as timed out although its reply was waiting in the socket, and five of
    // them opened the breaker of a healthy Redis (a loaded machine, a long GC pause, a synchronous task).
    const redis = client({ commandTimeout: 200, breaker: { failureThreshold: 5 } });
    const key = `stall:${process.pid}:${Date.now()}`;
    await redis.client.set(key, 'v');
    await redis.client.ping(); // a turn of I/O first: the stall below starts from a reply's continuation
    const inFlight = Array.from({ length: 8 }, () =>
      redis.run('get', (c) => c.get(key)).catch((error: StratacacheError) => error),
    );
    const stallUntil = performance.now() + 600; // 3 x commandTimeout, synchronously
    while (performance.now() < stallUntil) {
      // the replies arrive meanwhile and wait, unread, in the socket
    }
    expect(await Promise.all(inFlight)).toEqual(Array(8).fill('v'));
    expect(redis.breaker?.state).toBe('closed');
    await redis.client.del(key);
  });

  it('still times out a command whose reply does not come (Redis frozen)', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 200, breaker: false });
    expect(await redis.client.ping()).toBe('PONG');
    s.pause();
    try {
      const started = performance.now();
      const error = await redis.run('get', (c) => c.get('k')).catch((e: StratacacheError) => e);
      expect(error).toMatchObject({ code: 'E_TIMEOUT', context: { sent: true } });
      expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    } finally {
      s.resume();
    }
  });
});
