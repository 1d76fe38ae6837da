/** getOrSet: stampede protection, the factory context, grace, timeouts, refresh-ahead, the stale-set race. */
import { createLocks } from '@stratacache/coordination';
import { describe, expect, it } from 'vitest';
import { FactoryTimeoutError, PatternsChannels } from '../src/index.js';
import { cache, client, deferred, listen, prefix, sleep, until } from './helpers.js';

describe('stampede protection', () => {
  it('100 concurrent calls on a cold key run the factory once', async () => {
    const c = cache<number>({ redis: client() });
    let calls = 0;
    const factory = async () => {
      calls++;
      await sleep(20);
      return 42;
    };
    const results = await Promise.all(Array.from({ length: 100 }, () => c.getOrSet('cold', factory)));
    expect(results.every((r) => r === 42)).toBe(true);
    expect(calls).toBe(1);
    expect(c.stats().inflight).toBe(0);
  });

  it('with a lock, instances on separate connections run the factory once; the others read its result', async () => {
    const p = prefix();
    let calls = 0;
    const factory = async () => {
      calls++;
      await sleep(100);
      return 'loaded';
    };
    const instances = Array.from({ length: 4 }, () => {
      const redis = client({ prefix: p });
      return cache<string>({ redis, lock: createLocks(redis), memory: false });
    });
    const results = await Promise.all(instances.map((c) => c.getOrSet('k', factory)));
    expect(results).toEqual(['loaded', 'loaded', 'loaded', 'loaded']);
    expect(calls).toBe(1);
  });

  it('after the lock wait runs out, a waiting instance calls the factory itself', async () => {
    const p = prefix();
    const r1 = client({ prefix: p });
    const r2 = client({ prefix: p });
    const slow = cache<string>({ redis: r1, lock: createLocks(r1), memory: false });
    const impatient = cache<string>({ redis: r2, lock: createLocks(r2), memory: false, defaults: { lockWait: 50 } });
    const gate = deferred();
    const holding = deferred();
    const first = slow.getOrSet('k', async () => {
      holding.resolve(); // the slow instance holds the lock once its factory runs
      await gate.promise;
      return 'slow';
    });
    await holding.promise;
    await expect(impatient.getOrSet('k', () => 'own')).resolves.toBe('own');
    gate.resolve();
    await expect(first).resolves.toBe('slow');
  });
});

describe('the factory context', () => {
  it('sets the TTL and tags from the result, or skips caching', async () => {
    const redis = client();
    const c = cache<{ maxAge: number }>({ redis, memory: false });
    await c.getOrSet('a', (ctx) => {
      ctx.setTtl(2000);
      ctx.setTags(['from-result']);
      return { maxAge: 2 };
    });
    const pttl = await redis.client.pttl(`${redis.options.prefix}:cache:e:a`);
    expect(pttl).toBeGreaterThan(1500);
    expect(pttl).toBeLessThanOrEqual(2200);
    await c.deleteByTag(['from-result']);
    expect(await c.get('a')).toBeUndefined();
    const skipped = await c.getOrSet('b', (ctx) => {
      ctx.skip();
      return { maxAge: 0 };
    });
    expect(skipped).toEqual({ maxAge: 0 });
    expect(await c.has('b')).toBe(false);
  });

  it('errors and undefined are not cached unless asked (negative caching)', async () => {
    const c = cache<string | undefined>({ redis: client() });
    let calls = 0;
    const none = async () => {
      calls++;
      return undefined;
    };
    await c.getOrSet('u', none);
    await c.getOrSet('u', none);
    expect(calls).toBe(2);
    await c.getOrSet('n', none, { cacheUndefined: { ttl: '1m' } });
    await c.getOrSet('n', none, { cacheUndefined: { ttl: '1m' } });
    expect(calls).toBe(3);
    const failing = async (): Promise<string> => {
      calls++;
      throw new TypeError('boom');
    };
    await expect(c.getOrSet('e', failing)).rejects.toThrow('boom');
    await expect(c.getOrSet('e', failing)).rejects.toThrow('boom');
    expect(calls).toBe(5);
    await expect(c.getOrSet('ce', failing, { cacheErrors: { ttl: '1m' } })).rejects.toThrow('boom');
    await expect(c.getOrSet('ce', failing, { cacheErrors: { ttl: '1m' } })).rejects.toMatchObject({
      code: 'E_FACTORY_CACHED',
      context: { name: 'TypeError', message: 'boom' },
    });
    expect(calls).toBe(6);
  });

  it('ctx.fail keeps and serves the stale value; the stale value is in the context', async () => {
    const c = cache<number>({ redis: client(), defaults: { grace: '1h' } });
    await c.set('k', 1, { ttl: 50, jitter: 0 });
    await sleep(80);
    let seen: number | undefined;
    const v = await c.getOrSet('k', (ctx) => {
      seen = ctx.stale;
      return ctx.fail('upstream said 503');
    });
    expect(seen).toBe(1);
    expect(v).toBe(1);
    expect(c.stats().staleServed).toBe(1);
  });
});

describe('grace, fail-safe and timeouts', () => {
  it('serves stale when the factory fails, then backs off before trying it again', async () => {
    const c = cache<string>({ redis: client(), defaults: { grace: '1h', graceBackoff: 300, ttl: 50, jitter: 0 } });
    await c.set('k', 'old');
    await sleep(80);
    let calls = 0;
    const failing = async (): Promise<string> => {
      calls++;
      throw new Error('db down');
    };
    expect(await c.getOrSet('k', failing)).toBe('old');
    expect(await c.getOrSet('k', failing)).toBe('old');
    expect(calls).toBe(1);
    await sleep(350);
    expect(await c.getOrSet('k', async () => 'new')).toBe('new');
  });

  it('without grace a failing factory throws its own error', async () => {
    const c = cache<string>({ redis: client() });
    const error = new RangeError('nope');
    await expect(c.getOrSet('k', () => Promise.reject(error))).rejects.toBe(error);
  });

  it('soft timeout: serves stale, and the factory finishes in the background', async () => {
    const c = cache<string>({ redis: client(), defaults: { grace: '1h', ttl: 50, jitter: 0 } });
    await c.set('k', 'old');
    await sleep(80);
    const gate = deferred();
    let calls = 0;
    const slow = async () => {
      calls++;
      await gate.promise;
      return 'new';
    };
    const t0 = Date.now();
    expect(await c.getOrSet('k', slow, { timeout: { soft: 30 }, ttl: '1m' })).toBe('old');
    expect(Date.now() - t0).toBeLessThan(1000);
    // While the factory still runs, callers share it (no second call).
    expect(await c.getOrSet('k', slow, { timeout: { soft: 30 }, ttl: '1m' })).toBe('old');
    gate.resolve();
    await until(async () => (await c.get('k')) === 'new');
    expect(calls).toBe(1);
  });

  it('hard timeout: FactoryTimeoutError without a stale value, the signal aborts, the late result is kept', async () => {
    const c = cache<string>({ redis: client() });
    let aborted = false;
    const gate = deferred();
    const error = await c
      .getOrSet(
        'k',
        async (ctx) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
          });
          await gate.promise;
          return 'late';
        },
        { timeout: { hard: 50 } },
      )
      .catch((e) => e);
    expect(error).toBeInstanceOf(FactoryTimeoutError);
    expect(error.code).toBe('E_FACTORY_TIMEOUT');
    expect(aborted).toBe(true);
    gate.resolve();
    await until(async () => (await c.get('k')) === 'late');
  });

  it('refresh-ahead: one background refresh near expiry; callers get the current value', async () => {
    const c = cache<number>({ redis: client(), defaults: { ttl: 400, jitter: 0, refreshAhead: 0.5 } });
    let calls = 0;
    const factory = async () => {
      calls++;
      await sleep(20);
      return calls;
    };
    expect(await c.getOrSet('k', factory)).toBe(1);
    await sleep(250); // under half of the TTL left
    const hits = await Promise.all(Array.from({ length: 20 }, () => c.getOrSet('k', factory)));
    expect(hits.every((h) => h === 1)).toBe(true);
    await until(async () => (await c.get('k')) === 2);
    expect(calls).toBe(2);
    expect(c.stats().refreshes).toBe(1);
  });

  it('TTL jitter spreads expiries by the configured fraction', async () => {
    const redis = client();
    const c = cache<number>({ redis, memory: false, defaults: { ttl: 100_000, jitter: 0.1 } });
    for (let i = 0; i < 50; i++) await c.set(`k${i}`, i);
    const ttls = await Promise.all(
      Array.from({ length: 50 }, (_, i) => redis.client.pttl(`${redis.options.prefix}:cache:e:k${i}`)),
    );
    expect(Math.min(...ttls)).toBeGreaterThanOrEqual(89_000);
    expect(Math.max(...ttls)).toBeLessThanOrEqual(110_000);
    expect(Math.max(...ttls) - Math.min(...ttls)).toBeGreaterThan(2_000);
  });
});

describe('the stale-set race', () => {
  it('a value read before a delete is not written back after it', async () => {
    const c = cache<string>({ redis: client() });
    const read = deferred();
    const write = deferred();
    const loading = c.getOrSet('k', async () => {
      const value = 'read-before-delete';
      read.resolve();
      await write.promise;
      return value;
    });
    await read.promise;
    await c.delete('k'); // the source changed and the writer invalidated
    write.resolve();
    expect(await loading).toBe('read-before-delete'); // the caller still gets what it loaded
    expect(await c.get('k')).toBeUndefined();
    expect(c.stats().refused).toBe(1);
    // The next load writes normally.
    expect(await c.getOrSet('k', () => 'fresh')).toBe('fresh');
    expect(await c.get('k')).toBe('fresh');
  });

  for (const mode of ['eager', 'lazy'] as const) {
    it(`a value read before its tag was invalidated is not written back (${mode})`, async () => {
      const c = cache<string>({ redis: client(), tags: mode, memory: false });
      const read = deferred();
      const write = deferred();
      const loading = c.getOrSet(
        'k',
        async () => {
          read.resolve();
          await write.promise;
          return 'old';
        },
        { tags: ['t'] },
      );
      await read.promise;
      await sleep(2);
      await c.deleteByTag(['t']);
      write.resolve();
      await loading;
      expect(await c.get('k')).toBeUndefined();
    });
  }

  it('a value read before a clear is not written back', async () => {
    const c = cache<string>({ redis: client(), memory: false });
    const read = deferred();
    const write = deferred();
    const loading = c.getOrSet('k', async () => {
      read.resolve();
      await write.promise;
      return 'old';
    });
    await read.promise;
    await sleep(2);
    await c.clear();
    write.resolve();
    await loading;
    expect(await c.get('k')).toBeUndefined();
  });
});

describe('versions and consistency', () => {
  it('a write with an older version than the stored one is refused', async () => {
    const redis = client();
    const c = cache<string>({ redis });
    expect(await c.set('k', 'v2', { version: 2 })).toBe(true);
    expect(await c.set('k', 'v1', { version: 1 })).toBe(false);
    expect(await c.get('k')).toBe('v2');
    const reader = cache<string>({ redis, memory: false });
    expect(await reader.get('k')).toBe('v2');
    expect(await c.set('k', 'v3', { version: 3 })).toBe(true);
    expect(await reader.get('k')).toBe('v3');
    // Many racing writers: the highest version is what stays.
    await Promise.all(Array.from({ length: 30 }, (_, i) => c.set('r', `v${i}`, { version: i + 1 })).reverse());
    expect(await reader.get('r')).toBe('v29');
  });

  it('strict writes under the lock and checks the result; it needs a lock', async () => {
    const redis = client();
    const c = cache<string>({ redis, lock: createLocks(redis) });
    expect(await c.set('k', 'v', { consistency: 'strict' })).toBe(true);
    expect(await c.get('k')).toBe('v');
    const noLock = cache<string>({ redis });
    await expect(noLock.set('k', 'v', { consistency: 'strict' })).rejects.toThrow(/lock/);
    expect(await c.set('k', 'e', { consistency: 'eventual' })).toBe(true);
    expect(await c.get('k')).toBe('e');
  });
});

describe('getOrSetMany, read-through, wrap and decorators', () => {
  it('the loader receives only the missing keys, once', async () => {
    const c = cache<string>({ redis: client() });
    await c.set('a', 'A');
    const asked: string[][] = [];
    const loader = async (keys: string[]) => {
      asked.push(keys);
      return new Map(keys.filter((k) => k !== 'none').map((k) => [k, k.toUpperCase()]));
    };
    expect(await c.getOrSetMany(['a', 'b', 'c', 'none'], loader)).toEqual(['A', 'B', 'C', undefined]);
    expect(asked).toEqual([['b', 'c', 'none']]);
    expect(await c.getOrSetMany(['a', 'b', 'c'], loader)).toEqual(['A', 'B', 'C']);
    expect(asked).toHaveLength(1);
    // Arrays aligned with the keys work too.
    expect(await c.getOrSetMany(['x', 'y'], (keys) => keys.map((k) => `${k}!`))).toEqual(['x!', 'y!']);
  });

  it('a configured loader makes get read-through', async () => {
    let calls = 0;
    const c = cache<string>({
      redis: client(),
      loader: async (key) => {
        calls++;
        return `loaded ${key}`;
      },
    });
    expect(await c.get('a')).toBe('loaded a');
    expect(await c.get('a')).toBe('loaded a');
    expect(calls).toBe(1);
  });

  it('wrap memoizes a function, and caches conditionally with when', async () => {
    const { wrap } = await import('../src/index.js');
    const c = cache<{ status: number }>({ redis: client() });
    let calls = 0;
    const fetchStatus = async (code: number) => {
      calls++;
      return { status: code };
    };
    const memo = wrap(c, fetchStatus, { key: (code) => `status:${code}`, when: (r) => r.status < 500 });
    await memo(200);
    await memo(200);
    expect(calls).toBe(1);
    await memo(503);
    await memo(503);
    expect(calls).toBe(3);
  });

  it('@cached decorates methods (standard decorators, compiled as TypeScript 5 emits them)', async () => {
    const { cached } = await import('../src/index.js');
    const { transformSync } = await import('esbuild');
    const c = cache<string>({ redis: client() });
    // Vitest's transform leaves decorators alone, so the class is compiled here as tsc/esbuild would for Node 20.
    const source = `
      class Users {
        calls = 0;
        @cached(c, { key: (id: string) => \`user:\${id}\` })
        async find(id: string) {
          this.calls++;
          return \`user \${id}\`;
        }
      }
      return new Users();`;
    const js = transformSync(source, { loader: 'ts', target: 'node20' }).code;
    const users = new Function('cached', 'c', js)(cached, c);
    expect(await users.find('1')).toBe('user 1');
    expect(await users.find('1')).toBe('user 1');
    expect(users.calls).toBe(1);
    expect(await c.get('user:1')).toBe('user 1');
  });

  it('write-through writes the source first and leaves the cache alone when it fails', async () => {
    const c = cache<string>({ redis: client() });
    await c.set('k', 'old');
    const db = new Map<string, string>();
    await expect(
      c.write('k', 'new', async () => {
        throw new Error('source refused');
      }),
    ).rejects.toThrow('source refused');
    expect(await c.get('k')).toBe('old');
    expect(await c.write('k', 'new', async (v) => db.set('k', v))).toEqual({ cached: true });
    expect(db.get('k')).toBe('new');
    expect(await c.get('k')).toBe('new');
  });
});

describe('instrumentation', () => {
  it('publishes hits, misses, sets and factory calls on stratacache:patterns:* channels', async () => {
    const hits = listen(PatternsChannels.hit);
    const misses = listen(PatternsChannels.miss);
    const factories = listen(PatternsChannels.factory);
    try {
      const c = cache<number>({ redis: client(), namespace: 'diag' });
      await c.getOrSet('k', () => 1);
      await c.get('k');
      expect(misses.messages).toContainEqual({ namespace: 'diag', key: 'k', tier: 'redis' });
      expect(factories.messages[0]).toMatchObject({ namespace: 'diag', key: 'k', ok: true });
      expect(hits.messages).toContainEqual({ namespace: 'diag', key: 'k', tier: 'memory' });
      expect(c.stats()).toMatchObject({ factoryCalls: 1, memoryHits: 1, sets: 1, redisMisses: 1 });
    } finally {
      hits.stop();
      misses.stop();
      factories.stop();
    }
  });
});

describe('with Redis down', () => {
  it('never hangs: memory keeps serving, getOrSet calls the factory, errors are published and thrown only on request', async () => {
    const { server } = await import('./helpers.js');
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 500, connectTimeout: 500 });
    const c = cache<string>({ redis });
    await c.set('warm', 'w');
    const errors = listen(PatternsChannels.error);
    try {
      await s.stop();
      await sleep(100);
      const t0 = Date.now();
      expect(await c.get('warm')).toBe('w');
      expect(await c.getOrSet('cold', () => 'from source')).toBe('from source');
      expect(await c.get('cold')).toBe('from source'); // kept in memory
      expect(await c.get('unknown')).toBeUndefined();
      // Refused at once (no connection) or after the command timeout, as core-client maps it.
      const unavailable = { code: expect.stringMatching(/^E_(CONNECTION|TIMEOUT|CIRCUIT_OPEN)$/) };
      await expect(c.get('unknown2', { throwErrors: true })).rejects.toMatchObject(unavailable);
      await expect(c.set('x', 'y', { throwErrors: true })).rejects.toMatchObject(unavailable);
      expect(Date.now() - t0).toBeLessThan(8000);
      expect(errors.messages.length).toBeGreaterThan(0);
      expect(errors.messages[0]).toMatchObject({ namespace: 'cache' });
    } finally {
      errors.stop();
    }
  });
});
