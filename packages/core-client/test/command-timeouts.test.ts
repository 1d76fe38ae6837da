/**
 * Command timeouts are watched by one shared sweep instead of a timer per
 * command: a command against a frozen Redis still times out, never before its
 * timeout and not much after, short timeouts (a budget's remainder) keep
 * their precision, and the sweep leaves no timer behind once no command is out.
 */
import { describe, expect, it } from 'vitest';
import { OWN_TIMER_BELOW_MS, SWEEP_MS, TimeoutSweep } from '../src/command-timeouts.js';
import type { StratacacheError } from '../src/index.js';
import { client, server } from './helpers.js';

/** Timers of the process (setTimeout and setInterval handles), as Node reports them. */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('the shared timeout sweep', () => {
  it('expires only what is still out past its deadline, and stops when nothing is left', async () => {
    const expired: string[] = [];
    const settled = new Set<string>();
    const sweep = new TimeoutSweep<string>({ settled: (c) => settled.has(c), expire: (c) => expired.push(c) });
    const before = timers();
    const t0 = performance.now();
    sweep.add('answered', 1000);
    sweep.add('late', 1000);
    sweep.add('later', 5000);
    expect(timers()).toBe(before + 1); // one interval for all three
    settled.add('answered');
    sweep.sweep(t0 + 999);
    expect(expired).toEqual([]);
    expect(sweep.size).toBe(2); // the answered one left
    sweep.sweep(t0 + 1001);
    expect(expired).toEqual(['late']);
    settled.add('later');
    sweep.sweep(t0 + 1002);
    expect(sweep.size).toBe(0);
    expect(timers()).toBe(before);
    expect(expired).toEqual(['late']);
  });

  it('with Redis frozen (SIGSTOP), a command times out after its timeout, within one sweep of it', async () => {
    const s = await server();
    const timeout = 400;
    const redis = client({ url: s.url, commandTimeout: timeout, breaker: false });
    expect(await redis.client.ping()).toBe('PONG');
    s.pause();
    try {
      const started = performance.now();
      const error = (await redis.run('get', (c) => c.get('a')).catch((e) => e)) as StratacacheError;
      const elapsed = performance.now() - started;
      expect(error).toMatchObject({ code: 'E_TIMEOUT', context: { sent: true } });
      expect(elapsed).toBeGreaterThanOrEqual(timeout - 1);
      // One sweep late at most, plus a loaded machine's scheduling delays.
      expect(elapsed).toBeLessThan(timeout + SWEEP_MS + 400);
    } finally {
      s.resume();
    }
    // The reply to the timed-out GET arrives. A command out runs the sweep's one interval, and once
    // nothing is out it stops: no timer is left behind.
    expect(await redis.client.ping()).toBe('PONG');
    const settle = () => new Promise((resolve) => setTimeout(resolve, 4 * SWEEP_MS));
    await settle();
    const idle = timers();
    const pong = redis.client.ping();
    expect(timers()).toBe(idle + 1);
    await pong;
    await settle();
    expect(timers()).toBe(idle);
  });

  it(`a timeout under ${OWN_TIMER_BELOW_MS} ms (a budget's remainder) keeps a timer of its own`, async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 2000, breaker: false });
    expect(await redis.client.ping()).toBe('PONG');
    s.pause();
    try {
      const started = performance.now();
      const error = await redis.run('get', (c) => c.get('a'), { budget: redis.budget(60) }).catch((e) => e);
      const elapsed = performance.now() - started;
      expect(error).toMatchObject({ code: 'E_TIMEOUT' });
      expect(elapsed).toBeGreaterThanOrEqual(59);
      expect(elapsed).toBeLessThan(60 + 400);
    } finally {
      s.resume();
    }
  });
});
