/** Regression tests for defects found in review: each fails on the code before its fix. */
import { describe, expect, it } from 'vitest';
import { mapRedisError } from '../src/error-mapping.js';
import { ConfigError, ConnectionError, createKeyBuilder, hashParams, KeyError, ReadError } from '../src/index.js';
import { redactUrl } from '../src/redact.js';
import { resolveOptions } from '../src/resolve-options.js';
import { client, eventually, server, sleep } from './helpers.js';

describe('parameter hashing refuses values JSON would silently change', () => {
  it('refuses Map, Set, Date, BigInt, undefined, NaN and Infinity instead of colliding', () => {
    for (const value of [
      new Map([[1, 2]]),
      new Set([1]),
      new Date(0),
      1n,
      { a: undefined },
      [undefined],
      Number.NaN,
      { n: Number.POSITIVE_INFINITY },
    ]) {
      expect(() => hashParams(value), String(value)).toThrowError(KeyError);
    }
    expect(hashParams({ a: 1 })).toBe(hashParams(Object.assign(Object.create(null), { a: 1 })));
    expect(hashParams({ when: new Date(0).toISOString() })).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('configuration', () => {
  it('redacts a password that contains @, also in unparseable URLs', () => {
    expect(redactUrl('redis://u:p@ss@host:99999')).toBe('redis://u:***@host:99999');
    expect(redactUrl('redis://u:p@ss@host:6379/2')).not.toContain('p@ss');
    let message = '';
    try {
      resolveOptions({ env: { REDIS_URL: 'redis://u:p@ss@host:99999' } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/REDIS_URL/);
    expect(message).not.toContain('p@ss');
    expect(message).not.toContain('ss@host');
  });

  it('names the variable for a malformed percent-escape', () => {
    expect(() => resolveOptions({ env: { REDIS_URL: 'redis://u:%zz@host' } })).toThrowError(
      /REDIS_URL has a malformed percent-escape/,
    );
    expect(() => resolveOptions({ env: { REDIS_URL: 'redis://u:%zz@host' } })).toThrowError(ConfigError);
  });

  it('lets explicit addresses win over environment sockets and topologies', () => {
    expect(resolveOptions({ host: 'explicit', env: { REDIS_SOCKET_PATH: '/tmp/s.sock' } }).socketPath).toBeUndefined();
    expect(resolveOptions({ url: 'redis://explicit', env: { REDIS_CLUSTER_NODES: 'a:1,b:2' } }).mode).toBe(
      'standalone',
    );
    expect(
      resolveOptions({ env: { REDIS_SOCKET_PATH: '/tmp/s.sock', REDIS_URL: 'redis://h:1' } }).socketPath,
    ).toBeUndefined();
  });

  it('refuses zero timeouts and empty hash tags', () => {
    expect(() => resolveOptions({ env: {}, commandTimeout: 0 })).toThrowError(/commandTimeout must be more than 0/);
    expect(() => resolveOptions({ env: {}, connectTimeout: '0ms' })).toThrowError(/connectTimeout/);
    expect(() => createKeyBuilder({ namespace: 'n' }).tag('')).toThrowError(KeyError);
  });

  it('never exposes the password through options', () => {
    const redis = client({ password: 'options-secret', breaker: false });
    expect(redis.options.password).toBe('***');
    expect(JSON.stringify(redis.options)).not.toContain('options-secret');
  });
});

describe('pub/sub namespaces', () => {
  it('gives each namespace its own channels on one shared subscriber connection', async () => {
    // A name of its own: on the Cluster and Sentinel runs, other files' clients share this server.
    const name = `ns${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    const redis = client({ connectionName: name });
    const alpha = redis.pubsub(`alpha${Date.now()}`);
    const beta = redis.pubsub(`beta${Date.now()}`);
    expect(alpha).not.toBe(beta);
    expect(redis.pubsub(`alpha${alpha.channelOf('t').split(':')[1]?.slice(5)}`)).toBe(alpha);
    const got: string[] = [];
    await alpha.subscribe('t', (p) => got.push(`alpha:${p}`));
    await beta.subscribe('t', (p) => got.push(`beta:${p}`));
    await alpha.publish('t', 1);
    await beta.publish('t', 2);
    await eventually(() => got.length === 2);
    await sleep(30);
    expect(got.sort()).toEqual(['alpha:1', 'beta:2']);
    const clients = (await redis.client.call('CLIENT', 'LIST')) as string;
    expect(clients.match(new RegExp(`name=${name}:subscriber `, 'g'))).toHaveLength(1);
  });

  it('survives a foreign channel with a stray % in its name', async () => {
    const redis = client();
    const bus = redis.pubsub(`pct${Date.now()}`);
    const topics: string[] = [];
    await bus.psubscribe('*', (_p, meta) => topics.push(meta.topic));
    await redis.client.publish(`${bus.channelOf('x').slice(0, -1)}50%`, '1');
    await bus.publish('a:b', 1);
    await eventually(() => topics.length === 2);
    expect(topics).toEqual(['50%', 'a:b']);
  });

  it('delivers to every handler when two subscribe to one topic at once', async () => {
    const bus = client().pubsub(`race${Date.now()}`);
    const got: string[] = [];
    await Promise.all([bus.subscribe('t', () => got.push('a')), bus.subscribe('t', () => got.push('b'))]);
    await bus.publish('t', 1);
    await eventually(() => got.length === 2);
    expect(got.sort()).toEqual(['a', 'b']);
  });
});

describe('failing fast', () => {
  it('counts pipelined commands against maxOfflineQueue', async () => {
    const s = await server();
    const redis = client({ url: s.url, maxOfflineQueue: 2, commandTimeout: 2000, breaker: false });
    await redis.client.ping();
    await s.kill();
    await eventually(() => redis.status !== 'ready');
    const pipeline = redis.client.pipeline();
    for (let i = 0; i < 50; i++) pipeline.get(`k${i}`);
    const results = (await pipeline.exec().catch(() => [])) ?? [];
    const refused = results.filter(([error]) => error && /maxOfflineQueue/.test(error.message));
    expect(refused.length).toBeGreaterThanOrEqual(45);
  });

  it('reports an unhealthy Redis within the command timeout', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 300, breaker: false });
    await redis.client.ping();
    s.pause();
    try {
      const started = performance.now();
      const report = await redis.health();
      expect(report.ok).toBe(false);
      expect(performance.now() - started).toBeLessThan(300 + 900);
    } finally {
      s.resume();
    }
  });

  it('treats READONLY (a replica, a failover) as unavailability, and getMany failures as reads', async () => {
    const s = await server({ args: ['--replicaof', '127.0.0.1', '1', '--replica-read-only', 'yes'] });
    const replica = client({ url: s.url, breaker: false, maxRetriesPerRequest: 0 });
    await expect(replica.run('set', (c) => c.set('k', 'v'))).rejects.toBeInstanceOf(ConnectionError);
    expect(mapRedisError(new Error('WRONGTYPE Operation against a key'), 'getMany')).toBeInstanceOf(ReadError);
    expect(mapRedisError(new Error('LOADING Redis is loading the dataset'), 'get')).toBeInstanceOf(ConnectionError);
  });

  it('unlinks only keys of the requested type', async () => {
    const redis = client();
    const keys = createKeyBuilder({ prefix: `typed${Date.now()}`, namespace: 'n' });
    await redis.client.set(keys.key('k', 'str'), 'v');
    await redis.client.hset(keys.key('k', 'hash'), 'f', 'v');
    expect(await redis.unlinkMatching(keys.all(), { type: 'hash' })).toBe(1);
    expect(await redis.client.exists(keys.key('k', 'str'))).toBe(1);
    await redis.unlinkMatching(keys.all());
  });
});
