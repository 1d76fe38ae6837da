import { describe, expect, it } from 'vitest';
import { ConfigError, createRedis, toMs } from '../src/index.js';
import { resolveOptions } from '../src/resolve-options.js';

const code = (c: string) => expect.objectContaining({ code: c });

describe('resolveOptions: URL forms', () => {
  it('reads redis://, rediss:// and unix:// URLs', () => {
    const plain = resolveOptions({ url: 'redis://alice:s3cret@db.example:6380/2', env: {} });
    expect(plain).toMatchObject({
      mode: 'standalone',
      host: 'db.example',
      port: 6380,
      db: 2,
      username: 'alice',
      password: 's3cret',
    });
    expect(plain.tls).toBeUndefined();
    const tls = resolveOptions({ url: 'rediss://db.example', env: {} });
    expect(tls.tls).toEqual({ rejectUnauthorized: true });
    expect(tls.port).toBe(6379);
    const unix = resolveOptions({ url: 'unix:///run/redis/redis.sock?db=3', env: {} });
    expect(unix).toMatchObject({ socketPath: '/run/redis/redis.sock', db: 3 });
    const ipv6 = resolveOptions({ url: 'redis://[::1]:7000', env: {} });
    expect(ipv6).toMatchObject({ host: '::1', port: 7000 });
  });

  it('keeps TLS verification on unless turned off explicitly', () => {
    expect(resolveOptions({ tls: { ca: 'x' }, env: {} }).tls?.rejectUnauthorized).toBe(true);
    expect(resolveOptions({ tls: { rejectUnauthorized: false }, env: {} }).tls?.rejectUnauthorized).toBe(false);
  });
});

describe('resolveOptions: environment', () => {
  it('reads REDIS_HOST, REDIS_PORT, REDIS_DB, REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS, REDIS_NS', () => {
    const o = resolveOptions({
      env: {
        REDIS_HOST: 'cache.internal',
        REDIS_PORT: '6390',
        REDIS_DB: '4',
        REDIS_USERNAME: 'svc',
        REDIS_PASSWORD: 'pw',
        REDIS_TLS: 'true',
        REDIS_NS: 'shop',
      },
    });
    expect(o).toMatchObject({
      host: 'cache.internal',
      port: 6390,
      db: 4,
      username: 'svc',
      password: 'pw',
      prefix: 'shop',
    });
    expect(o.tls).toBeDefined();
  });

  it('lets REDIS_URL win over REDIS_HOST, and explicit options win over both', () => {
    const env = { REDIS_HOST: 'a', REDIS_URL: 'redis://b:7000' };
    expect(resolveOptions({ env })).toMatchObject({ host: 'b', port: 7000 });
    expect(resolveOptions({ env, host: 'c' })).toMatchObject({ host: 'c', port: 7000 });
    expect(resolveOptions({ env, url: 'redis://d' })).toMatchObject({ host: 'd', port: 6379 });
  });

  it('reads REDIS_SOCKET_PATH, REDIS_SENTINELS + REDIS_SENTINEL_NAME and REDIS_CLUSTER_NODES', () => {
    expect(resolveOptions({ env: { REDIS_SOCKET_PATH: '/tmp/r.sock' } }).socketPath).toBe('/tmp/r.sock');
    const sentinel = resolveOptions({
      env: { REDIS_SENTINELS: 's1:26379, s2:26380', REDIS_SENTINEL_NAME: 'mymaster' },
    });
    expect(sentinel).toMatchObject({
      mode: 'sentinel',
      sentinelName: 'mymaster',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
    });
    const cluster = resolveOptions({ env: { REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7001' } });
    expect(cluster.mode).toBe('cluster');
    expect(cluster.clusterNodes).toHaveLength(2);
  });

  it('names the variable or option that is wrong', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ env: { REDIS_PORT: 'abc' } }, /REDIS_PORT must be an integer/],
      [{ env: { REDIS_PORT: '70000' } }, /REDIS_PORT/],
      [{ env: { REDIS_DB: '-1' } }, /REDIS_DB/],
      [{ env: { REDIS_TLS: 'maybe' } }, /REDIS_TLS/],
      [{ env: { REDIS_URL: 'http://x' } }, /REDIS_URL must start with/],
      [{ env: { REDIS_URL: 'redis://h/notanumber' } }, /REDIS_URL database/],
      [{ env: { REDIS_SENTINELS: 'nohostport', REDIS_SENTINEL_NAME: 'm' } }, /REDIS_SENTINELS/],
      [{ env: { REDIS_SENTINELS: 'h:1' } }, /REDIS_SENTINEL_NAME/],
      [{ env: { REDIS_CLUSTER_NODES: 'h' } }, /REDIS_CLUSTER_NODES/],
      [{ env: { REDIS_NS: 'has:colon' } }, /REDIS_NS/],
      [{ env: {}, prefix: 'a*b' }, /prefix/],
      [{ env: {}, commandTimeout: 'soon' }, /commandTimeout/],
      [{ env: {}, connectTimeout: -5 }, /connectTimeout/],
      [{ env: {}, maxOfflineQueue: 1.5 }, /maxOfflineQueue/],
      [{ env: {}, breaker: { failureThreshold: 0 } }, /breaker.failureThreshold/],
      [{ env: {}, clusterNodes: [{ host: 'h', port: 7000 }], db: 2 }, /db must be 0 on Redis Cluster/],
    ];
    for (const [options, message] of cases) {
      expect(() => resolveOptions(options), JSON.stringify(options)).toThrowError(message);
      expect(() => resolveOptions(options)).toThrowError(ConfigError);
    }
  });

  it('never shows a password in an error or in toString()', () => {
    const secret = 'hunter2-very-secret';
    let message = '';
    try {
      resolveOptions({ env: { REDIS_URL: `redis://user:${secret}@host:notaport` } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/REDIS_URL/);
    expect(message).not.toContain(secret);

    const redis = createRedis({
      url: `redis://user:${secret}@127.0.0.1:1`,
      env: {},
      connectTimeout: 50,
      breaker: false,
    });
    redis.client.on('error', () => {});
    expect(String(redis)).not.toContain(secret);
    expect(String(redis)).toContain('user:***@');
    expect(JSON.stringify(redis)).not.toContain(secret);
    redis.client.disconnect();
  });
});

describe('durations', () => {
  it('accepts milliseconds and strings', () => {
    expect(toMs(250, 'x')).toBe(250);
    expect(toMs('30s', 'x')).toBe(30_000);
    expect(toMs('5m', 'x')).toBe(300_000);
    expect(toMs('250ms', 'x')).toBe(250);
    expect(() => toMs('fast', 'ttl')).toThrowError(code('E_CONFIG'));
    expect(() => toMs(Number.NaN, 'ttl')).toThrowError(/ttl must be a duration/);
  });
});
