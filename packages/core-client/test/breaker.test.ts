import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../src/breaker.js';
import { CircuitOpenError, ConnectionError, CoreChannels, ReadError } from '../src/index.js';
import { client, eventually, server } from './helpers.js';

function fakeClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}
const down = () => Promise.reject(new ConnectionError('down'));

describe('CircuitBreaker', () => {
  it('opens after failureThreshold failures within the window, then half-opens and closes on success', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ failureThreshold: 3, windowMs: 1000, openDurationMs: 5000, now: clock.now });
    const changes: string[] = [];
    breaker.on('state', (c) => changes.push(`${c.from}->${c.to}`));
    for (let i = 0; i < 3; i++) await expect(breaker.run(down)).rejects.toBeInstanceOf(ConnectionError);
    expect(breaker.state).toBe('open');
    await expect(breaker.run(() => Promise.resolve('skipped'))).rejects.toBeInstanceOf(CircuitOpenError);
    clock.advance(5000);
    expect(breaker.state).toBe('half-open');
    expect(await breaker.run(() => Promise.resolve('ok'))).toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('forgets failures older than the window', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ failureThreshold: 3, windowMs: 1000, openDurationMs: 5000, now: clock.now });
    await breaker.run(down).catch(() => {});
    await breaker.run(down).catch(() => {});
    clock.advance(1500);
    await breaker.run(down).catch(() => {});
    expect(breaker.state).toBe('closed');
  });

  it('reopens when the half-open probe fails, and lets only one probe through', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, windowMs: 1000, openDurationMs: 100, now: clock.now });
    await breaker.run(down).catch(() => {});
    clock.advance(100);
    let release!: () => void;
    const probe = breaker.run(() =>
      new Promise<void>((r) => (release = r)).then(() => Promise.reject(new ConnectionError('still down'))),
    );
    await expect(breaker.run(() => Promise.resolve(1))).rejects.toBeInstanceOf(CircuitOpenError);
    release();
    await expect(probe).rejects.toBeInstanceOf(ConnectionError);
    expect(breaker.state).toBe('open');
  });

  it('does not count answers from Redis (a wrong type) as failures', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, windowMs: 1000, openDurationMs: 1000 });
    await breaker.run(() => Promise.reject(new ReadError('WRONGTYPE'))).catch(() => {});
    expect(breaker.state).toBe('closed');
  });
});

describe('the client breaker with a real Redis', () => {
  it('opens while Redis is down, fails fast, publishes its changes, and closes after Redis returns', async () => {
    const s = await server();
    const redis = client({
      url: s.url,
      commandTimeout: 200,
      breaker: { failureThreshold: 3, window: '10s', openDuration: '300ms' },
    });
    const events: unknown[] = [];
    const listener = (message: unknown) => events.push(message);
    subscribe(CoreChannels.breaker, listener);
    try {
      expect(await redis.run('ping', (c) => c.ping())).toBe('PONG');
      await s.kill();
      await eventually(async () => {
        await redis.run('get', (c) => c.get('k')).catch(() => {});
        return redis.breaker?.state === 'open';
      });
      let attempted = false;
      const skipped = redis.run('get', (c) => {
        attempted = true;
        return c.get('k');
      });
      await expect(skipped).rejects.toBeInstanceOf(CircuitOpenError);
      expect(attempted).toBe(false); // skipped at once, not sent and timed out
      await s.restart();
      await eventually(async () => (await redis.run('ping', (c) => c.ping()).catch(() => 'no')) === 'PONG');
      expect(redis.breaker?.state).toBe('closed');
      expect(events).toContainEqual(expect.objectContaining({ from: 'closed', to: 'open' }));
      expect(events).toContainEqual(expect.objectContaining({ to: 'closed' }));
    } finally {
      unsubscribe(CoreChannels.breaker, listener);
    }
  });

  it('closes as soon as the connection is back, not after its open duration', async () => {
    const s = await server();
    const redis = client({
      url: s.url,
      commandTimeout: 200,
      reconnectMaxDelay: '100ms',
      breaker: { failureThreshold: 2, window: '10s', openDuration: '1h' },
    });
    expect(await redis.run('ping', (c) => c.ping())).toBe('PONG');
    await s.kill();
    await eventually(async () => {
      await redis.run('get', (c) => c.get('k')).catch(() => {});
      return redis.breaker?.state === 'open';
    });
    await s.restart();
    // An hour-long open duration: only the reconnect can have closed it.
    await eventually(() => redis.breaker?.state === 'closed', 10_000);
    expect(await redis.run('ping', (c) => c.ping())).toBe('PONG');
  });
});
