import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ConfigError, ConnectionError, createRedis, StratacacheError, TimeoutError } from '../src/index.js';
import { client, eventually, server } from './helpers.js';

describe('connecting', () => {
  it('connects by URL, by unix socket and by host/port', async () => {
    const s = await server();
    for (const options of [
      { url: s.url },
      { url: s.socketUrl as string },
      { host: '127.0.0.1', port: s.port },
      { socketPath: s.socketPath },
    ]) {
      const redis = client({ ...options, url: 'url' in options ? options.url : undefined });
      expect(await redis.client.ping(), JSON.stringify(options)).toBe('PONG');
    }
  });

  it('selects the database of the URL path', async () => {
    const s = await server();
    const db3 = client({ url: `${s.url}/3` });
    await db3.client.set('k', 'in-db-3');
    const raw = new Redis(s.url, { db: 3 });
    expect(await raw.get('k')).toBe('in-db-3');
    raw.disconnect();
  });

  it('reads REDIS_URL from the environment it is given', async () => {
    const s = await server();
    const redis = createRedis({ env: { REDIS_URL: s.url } });
    expect(await redis.client.ping()).toBe('PONG');
    await redis.close();
  });

  it('connects over TLS with a CA made at test time, and refuses an unverified server by default', async () => {
    const s = await server({ tls: true });
    const ok = client({ url: s.url, tls: { ca: s.tls?.ca, servername: 'localhost' } });
    expect(await ok.client.ping()).toBe('PONG');

    const unverified = client({ url: s.url, tls: true, commandTimeout: 1000, maxRetriesPerRequest: 0, breaker: false });
    unverified.client.on('error', () => {});
    await expect(unverified.run('ping', (c) => c.ping())).rejects.toBeInstanceOf(StratacacheError);
  });

  it('authenticates an ACL user, and names the credentials when they are wrong without showing the password', async () => {
    const s = await server({ users: [{ name: 'app', password: 'right-password' }], password: 'default-pass' });
    const app = client({ url: `redis://127.0.0.1:${s.port}`, username: 'app', password: 'right-password' });
    expect(await app.client.ping()).toBe('PONG');

    const wrong = client({
      url: `redis://127.0.0.1:${s.port}`,
      username: 'app',
      password: 'wrong-password-xyz',
      maxRetriesPerRequest: 0,
      commandTimeout: 1000,
      breaker: false,
    });
    const errors: StratacacheError[] = [];
    wrong.on('connection-error', (e) => errors.push(e));
    await eventually(() => errors.length > 0);
    expect(errors[0]).toBeInstanceOf(ConfigError);
    expect(errors[0]?.message).toMatch(/credentials/);
    expect(errors[0]?.message).not.toContain('wrong-password-xyz');
    // A command says why too, instead of a bare "unreachable".
    const failure = await wrong.run('get', (c) => c.get('k')).catch((e) => e);
    expect(failure).toBeInstanceOf(ConfigError);
    expect(failure.message).toMatch(/REDIS_PASSWORD/);
    expect(failure.message).not.toContain('wrong-password-xyz');
  });
});

describe('failing fast', () => {
  it('rejects within the command timeout when Redis is stopped, never hangs', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 300, breaker: false });
    expect(await redis.client.ping()).toBe('PONG');
    await s.stop();
    const started = performance.now();
    const error = await redis.run('get', (c) => c.get('k')).catch((e) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(StratacacheError);
    expect([ConnectionError, TimeoutError].some((C) => error instanceof C)).toBe(true);
    // The bound the issue sets: within the command timeout (plus scheduling slack).
    // The bound is the command timeout; the slack covers scheduling on a busy 2-core machine.
    expect(elapsed).toBeLessThan(300 + 900);
  });

  it('rejects within the command timeout when Redis is frozen, as a timeout (outcome unknown)', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 300, breaker: false });
    expect(await redis.client.ping()).toBe('PONG');
    s.pause();
    try {
      const error = await redis.run('set', (c) => c.set('k', 'v')).catch((e) => e);
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error.message).toMatch(/The outcome of set is unknown: it was sent and may have been applied/);
    } finally {
      s.resume();
    }
  });

  it('bounds the offline queue: past maxOfflineQueue commands are rejected at once', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 2000, maxOfflineQueue: 5, breaker: false });
    expect(await redis.client.ping()).toBe('PONG');
    await s.kill();
    await eventually(() => redis.status !== 'ready');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => redis.run('get', (c) => c.get(`k${i}`))),
    );
    const rejectedAtOnce = results.filter(
      (r) => r.status === 'rejected' && /maxOfflineQueue/.test((r.reason as Error).message),
    );
    expect(rejectedAtOnce.length).toBeGreaterThanOrEqual(15);
    for (const r of results) expect(r.status).toBe('rejected');
  });

  it('reconnects by itself when Redis comes back', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 500, breaker: false });
    await redis.client.set('k', 'v');
    await s.restart();
    await eventually(async () => (await redis.client.ping().catch(() => 'down')) === 'PONG', 10_000);
    expect(await redis.client.get('k')).toBeNull(); // a fresh server, nothing persisted
  });
});

describe('closing', () => {
  it('lets in-flight commands finish, then quits; a second close is a no-op', async () => {
    const s = await server({ enableDebug: true });
    const redis = client({ url: s.url, commandTimeout: 3000 });
    const subscriber = redis.pubsub();
    await subscriber.subscribe('t', () => {});
    const inFlight = redis.client.call('DEBUG', 'SLEEP', '0.2');
    const closing = redis.close();
    expect(redis.close()).toBe(closing);
    await closing;
    expect(await inFlight).toBe('OK');
    expect(redis.status).toBe('end');
    expect(subscriber.subscriptions().channels).toEqual([]);
  });
});

describe('socket errors', () => {
  it('never turn into uncaught exceptions, however many a socket emits (ioredis listens once)', async () => {
    const redis = client({ breaker: false });
    expect(await redis.client.ping()).toBe('PONG');
    const stream = (redis.client as unknown as { stream: NodeJS.EventEmitter }).stream;
    expect(() => {
      for (let i = 0; i < 3; i++) stream.emit('error', new Error(`late socket error ${i}`));
    }).not.toThrow();
  });
});
