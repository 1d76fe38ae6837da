/**
 * Connection failures say where, what and whether the command may have run:
 * each error names the address (host:port or socket path, never a password),
 * the kind of failure, and "not sent" for a command that never had a
 * connection, or "outcome unknown" for one that was sent.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRedis, type RedisClientOptions, type StratacacheError, type StrataRedis } from '../src/index.js';
import { client, eventually, server } from './helpers.js';

/** A client that fails fast and never retries behind the test's back. */
function failing(options: RedisClientOptions): StrataRedis {
  return client({ commandTimeout: 600, connectTimeout: 600, maxRetriesPerRequest: 0, breaker: false, ...options });
}

async function failure(redis: StrataRedis, command = 'get'): Promise<StratacacheError> {
  const error = await redis
    .run(command, (c) => c.get('k'))
    .then(
      () => {
        throw new Error(`${command} succeeded`);
      },
      (e: StratacacheError) => e,
    );
  return error;
}

describe('connection failures name the address, the kind and whether the command ran', () => {
  it('refused: a closed port', async () => {
    const s = await server();
    const port = s.port;
    await s.stop(); // nothing listens on the port any more
    const error = await failure(failing({ url: `redis://user:pw-secret@127.0.0.1:${port}` }));
    expect(error.code).toBe('E_CONNECTION');
    expect(error.message).toContain(`Redis at 127.0.0.1:${port} refused the connection`);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).toMatch(/get was not sent, so it did not run/);
    expect(error.message).not.toMatch(/may have been applied|pw-secret/);
    expect(error.context).toMatchObject({ address: `127.0.0.1:${port}`, kind: 'refused', sent: false, command: 'get' });
  });

  it('refused: a unix socket path with nothing behind it', async () => {
    const error = await failure(failing({ socketPath: '/tmp/stratacache-no-such.sock' }));
    expect(error.message).toContain('Redis at unix:/tmp/stratacache-no-such.sock refused the connection');
    expect(error.context).toMatchObject({ kind: 'refused', sent: false });
  });

  it('blackholed: a server frozen with SIGSTOP before the client connects (never answers)', async () => {
    const s = await server();
    s.pause();
    try {
      const error = await failure(failing({ url: s.url }));
      expect(error.code).toBe('E_CONNECTION');
      expect(error.message).toContain(`Redis at 127.0.0.1:${s.port} timed out`);
      expect(error.message).toMatch(/accepted the connection but did not answer/);
      expect(error.message).toMatch(/get was not sent, so it did not run/);
      expect(error.context).toMatchObject({ kind: 'no-answer', sent: false });
    } finally {
      s.resume();
    }
  });

  it('blackholed: a server frozen after the command was sent (the outcome is unknown)', async () => {
    const s = await server();
    const redis = failing({ url: s.url });
    expect(await redis.client.ping()).toBe('PONG');
    s.pause();
    try {
      const error = await redis.run('set', (c) => c.set('k', 'v')).catch((e: StratacacheError) => e);
      expect(error.code).toBe('E_TIMEOUT');
      expect(error.message).toContain(`Redis at 127.0.0.1:${s.port} did not answer set within commandTimeout (600 ms)`);
      expect(error.message).toMatch(/The outcome of set is unknown: it was sent and may have been applied/);
      expect(error.context).toMatchObject({ kind: 'timeout', sent: true });
    } finally {
      s.resume();
    }
  });

  it('auth failed: a wrong password, never shown', async () => {
    const s = await server({ password: 'the-right-one' });
    const redis = failing({ url: `redis://:wrong-password-123@127.0.0.1:${s.port}` });
    const error = await failure(redis);
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain(`Redis at 127.0.0.1:${s.port} refused the credentials (auth failed)`);
    expect(error.message).toMatch(/REDIS_PASSWORD/);
    expect(error.message).toMatch(/get was not sent/);
    expect(error.message).not.toContain('wrong-password-123');
    expect(error.context).toMatchObject({ kind: 'auth', sent: false });
  });

  it('TLS failed: a certificate the client cannot verify', async () => {
    const s = await server({ tls: true });
    const error = await failure(failing({ url: `rediss://127.0.0.1:${s.port}` }));
    expect(error.code).toBe('E_CONNECTION');
    expect(error.message).toContain(`TLS failed with Redis at 127.0.0.1:${s.port}`);
    expect(error.message).toMatch(/certificate/);
    expect(error.message).toMatch(/tls\.ca/);
    expect(error.context).toMatchObject({ kind: 'tls', sent: false });
  });

  it('TLS mismatch: a TLS client on a plain port, and a plain client on a TLS port', async () => {
    const plain = await server();
    const tlsToPlain = await failure(failing({ url: plain.url, tls: { rejectUnauthorized: false } }));
    expect(tlsToPlain.message).toContain(`The TLS handshake with Redis at 127.0.0.1:${plain.port} timed out`);
    expect(tlsToPlain.message).toMatch(/may not speak TLS on that port/);
    expect(tlsToPlain.context).toMatchObject({ kind: 'tls-timeout', sent: false });
    // The same when connectTimeout fires first (it covers the handshake): still the handshake, not the connect.
    const early = await failure(
      failing({ url: plain.url, tls: { rejectUnauthorized: false }, connectTimeout: 150, commandTimeout: 1500 }),
    );
    expect(early.message).toContain(`The TLS handshake with Redis at 127.0.0.1:${plain.port} timed out`);
    expect(early.context).toMatchObject({ kind: 'tls-timeout', sent: false });

    const tls = await server({ tls: true });
    const plainToTls = await failure(failing({ url: `redis://127.0.0.1:${tls.port}` }));
    expect(plainToTls.message).toContain(`Redis at 127.0.0.1:${tls.port} closed the connection`);
    expect(plainToTls.message).toMatch(/If that port serves TLS, connect with rediss:\/\//);
    expect(plainToTls.context).toMatchObject({ kind: 'reset', sent: false });
  });

  it('bad db index: refused at connect, and nothing reaches database 0', async () => {
    const s = await server();
    const redis = client({ url: `${s.url}/99`, breaker: false });
    const events: StratacacheError[] = [];
    redis.on('connection-error', (e) => events.push(e));
    const error = await redis.run('set', (c) => c.set('written', 'to-db-0?')).catch((e: StratacacheError) => e);
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain(`Redis at 127.0.0.1:${s.port} refused database index 99 (bad db index)`);
    expect(error.message).toMatch(/ERR DB index is out of range/);
    expect(error.context).toMatchObject({ kind: 'db' });
    expect(events.map((e) => e.code)).toEqual(['E_CONFIG']);
    // The client gave up rather than reconnecting into the same refusal.
    await eventually(() => redis.status === 'end');
    const raw = new Redis(s.url);
    expect(await raw.get('written')).toBeNull();
    raw.disconnect();
  });

  it('closed client: its own error, and the breaker does not count it', async () => {
    const redis = createRedis({ url: (await server()).url, env: {}, breaker: { failureThreshold: 1 } });
    expect(await redis.client.ping()).toBe('PONG');
    await redis.close();
    for (let i = 0; i < 3; i++) {
      const error = await failure(redis);
      expect(error.code).toBe('E_CLOSED');
      expect(error.message).toMatch(/This client was closed with close\(\).*get was not sent, so it did not run/);
    }
    expect(redis.breaker?.state).toBe('closed');
    expect(() => redis.pubsub()).toThrowError(expect.objectContaining({ code: 'E_CLOSED' }));
  });
});
