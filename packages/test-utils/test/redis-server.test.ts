import { existsSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { RedisServerHandle } from '../src/index.ts';
import { isProcessAlive, ping, RedisServerStartError, startRedisServer } from '../src/index.ts';

const started: RedisServerHandle[] = [];
async function start(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServerHandle> {
  const server = await startRedisServer(options);
  started.push(server);
  return server;
}
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

function client(url: string, options: RedisOptions = {}): Redis {
  const c = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, ...options });
  c.on('error', () => {}); // failures are asserted on the commands themselves
  return c;
}

describe('startRedisServer', () => {
  it('serves TCP and a unix socket, and stop() removes everything', async () => {
    const server = await start();
    const viaSocket = new Redis({ path: server.socketPath as string, maxRetriesPerRequest: 0 });
    expect(await viaSocket.ping()).toBe('PONG');
    viaSocket.disconnect();
    const pid = server.pid;
    await server.stop();
    await server.stop(); // idempotent
    expect(isProcessAlive(pid)).toBe(false);
    expect(existsSync(server.socketPath as string)).toBe(false);
  });

  it('requires the password it was given', async () => {
    const server = await start({ password: 'p@ss word' });
    const anonymous = client(`redis://127.0.0.1:${server.port}`);
    await expect(anonymous.set('k', 'v')).rejects.toThrowError(/NOAUTH/);
    anonymous.disconnect();
    const authed = client(server.url);
    expect(await authed.ping()).toBe('PONG');
    authed.disconnect();
  });

  it('creates ACL users with their rules', async () => {
    const server = await start({
      users: [{ name: 'app', password: 'secret', rules: ['~app:*', '+get', '+set', '+ping'] }],
    });
    const app = client(`redis://app:secret@127.0.0.1:${server.port}`);
    expect(await app.set('app:1', 'x')).toBe('OK');
    await expect(app.set('other:1', 'x')).rejects.toThrowError(/NOPERM/);
    await expect(app.del('app:1')).rejects.toThrowError(/NOPERM/);
    app.disconnect();
  });

  it('serves TLS with a generated CA', async () => {
    const server = await start({ tls: true });
    expect(server.url.startsWith('rediss://')).toBe(true);
    const tls = client(server.url, { tls: { ca: server.tls?.ca, servername: 'localhost' } });
    expect(await tls.ping()).toBe('PONG');
    tls.disconnect();
    expect(await ping({ port: server.port }, 500)).toBe(false); // plain TCP gets nothing
  });

  it('applies maxmemory and enables DEBUG only when asked', async () => {
    const server = await start({ maxmemory: '10mb', maxmemoryPolicy: 'allkeys-lru', enableDebug: true });
    const c = client(server.url);
    expect(await c.config('GET', 'maxmemory')).toEqual(['maxmemory', String(10 * 1024 * 1024)]);
    expect(await c.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
    expect(await c.call('DEBUG', 'SLEEP', '0')).toBe('OK');
    c.disconnect();

    const plain = await start();
    const p = client(plain.url);
    await expect(p.call('DEBUG', 'SLEEP', '0')).rejects.toThrowError(/DEBUG command not allowed/);
    p.disconnect();
  });

  it('pauses and resumes: a paused server answers nothing', async () => {
    const server = await start();
    const c = client(server.url, { commandTimeout: 300 });
    expect(await c.ping()).toBe('PONG');
    server.pause();
    expect(server.paused).toBe(true);
    await expect(c.ping()).rejects.toThrowError(/timed out/i);
    server.resume();
    expect(await ping({ port: server.port }, 1000)).toBe(true);
    c.disconnect();
  });

  it('stops a paused server without hanging', async () => {
    const server = await start();
    const pid = server.pid;
    server.pause();
    await server.stop();
    expect(isProcessAlive(pid)).toBe(false);
  });

  it('restarts on the same port with no data', async () => {
    const server = await start();
    const c = client(server.url);
    await c.set('k', 'v');
    c.disconnect();
    const { port, pid } = server;
    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(pid);
    expect(isProcessAlive(pid)).toBe(false);
    const again = client(server.url);
    expect(await again.get('k')).toBeNull();
    again.disconnect();
  });

  it('kill() crashes it, and restart() brings it back', async () => {
    const server = await start();
    const pid = server.pid;
    await server.kill();
    expect(isProcessAlive(pid)).toBe(false);
    expect(await ping({ port: server.port }, 300)).toBe(false);
    await server.restart();
    expect(await ping({ port: server.port }, 1000)).toBe(true);
  });

  it('fails with the server output when the arguments are bad', async () => {
    const attempt = startRedisServer({ args: ['--no-such-option', 'x'] });
    await expect(attempt).rejects.toThrowError(RedisServerStartError);
    await expect(attempt).rejects.toThrowError(/no-such-option/);
  });

  it('runs stop() issued during restart() after it, leaving nothing running', async () => {
    const server = await startRedisServer();
    const restarting = server.restart();
    const stopping = server.stop();
    await restarting;
    await stopping;
    expect(isProcessAlive(server.pid)).toBe(false);
    expect(await ping({ port: server.port }, 300)).toBe(false);
  });

  it('fails clearly when the binary does not exist', async () => {
    await expect(startRedisServer({ binary: '/nonexistent/redis-server' })).rejects.toThrowError(/ENOENT/);
  });
});
