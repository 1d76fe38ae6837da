import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { dockerAnswers, getFreePort, isProcessAlive, NO_REDIS_MESSAGE, ping, resolveRedis } from '../src/index.ts';

const dockerRuns = await dockerAnswers();

describe('resolveRedis: the fallbacks, in order', () => {
  it('uses REDIS_URL when set and starts nothing', async () => {
    const url = inject('redis').url;
    const resolved = await resolveRedis({ env: { REDIS_URL: url }, binary: 'redis-server' });
    expect(resolved.source).toBe('env');
    expect(resolved.url).toBe(url);
    expect(resolved.pid).toBeUndefined();
    await resolved.stop();
    // stop() of an env Redis leaves it running: it was never ours.
    const client = new Redis(url, { maxRetriesPerRequest: 1 });
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('starts redis-server from PATH when there is no REDIS_URL, on TCP and a unix socket', async () => {
    const resolved = await resolveRedis({ env: {} });
    try {
      expect(resolved.source).toBe('binary');
      expect(resolved.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(resolved.pid && isProcessAlive(resolved.pid)).toBe(true);
      const tcp = new Redis(resolved.url, { maxRetriesPerRequest: 1 });
      const unix = new Redis({ path: resolved.socketPath as string, maxRetriesPerRequest: 1 });
      await tcp.set('k', 'v');
      expect(await unix.get('k')).toBe('v');
      // Started with --save "" --appendonly no: nothing is persisted.
      expect(await tcp.config('GET', 'save')).toEqual(['save', '']);
      expect(await tcp.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      tcp.disconnect();
      unix.disconnect();
    } finally {
      await resolved.stop();
    }
    expect(isProcessAlive(resolved.pid as number)).toBe(false);
    expect(await ping({ port: Number(new URL(resolved.url).port) }, 300)).toBe(false);
  });

  // Where a Docker engine runs, this would start a real container: there the
  // order is proven by the container test of the machine's own CI instead.
  it.skipIf(dockerRuns)('tries a container next when the binary is missing and Docker answers', async () => {
    // No engine runs here, so testcontainers itself fails: what matters is that it was tried.
    const attempt = resolveRedis({ env: {}, binary: '/nonexistent/redis-server', docker: async () => true });
    await expect(attempt).rejects.toThrowError();
    await expect(attempt).rejects.not.toThrowError(NO_REDIS_MESSAGE);
  });

  it('fails with a message that says how to get Redis when nothing is available', async () => {
    const attempt = resolveRedis({ env: {}, binary: '/nonexistent/redis-server', docker: async () => false });
    await expect(attempt).rejects.toThrowError(/REDIS_URL/);
    await expect(attempt).rejects.toThrowError(/redis-server on PATH/);
    await expect(attempt).rejects.toThrowError(/Docker/);
  });

  it('detects that no Docker engine answers', async () => {
    expect(await dockerAnswers({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' })).toBe(false);
    expect(await dockerAnswers({ DOCKER_HOST: `tcp://127.0.0.1:${await getFreePort()}` })).toBe(false);
    expect(await dockerAnswers({ DOCKER_HOST: 'ssh://somewhere' })).toBe(false);
  });
});

describe('global setup', () => {
  it('provides a Redis that answers to every test file', async () => {
    const provided = inject('redis');
    expect(['env', 'binary', 'container']).toContain(provided.source);
    const client = new Redis(provided.url, { maxRetriesPerRequest: 1 });
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });
});
