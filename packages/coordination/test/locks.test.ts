import { testRedisOptions } from '@stratacache/test-utils';
import { describe, expect, it } from 'vitest';
import { createLocks } from '../src/index.js';
import { client, server, sleep, unique } from './helpers.js';
import { startWorker } from './processes.js';

describe('locks in one process', () => {
  it('acquires, refuses a second holder, releases once, and hands out growing fences', async () => {
    const locks = createLocks(client());
    const name = unique('lock');
    const first = await locks.acquire(name, { ttl: '5s' });
    expect(first).not.toBeNull();
    expect(first?.token.length).toBeGreaterThanOrEqual(22); // >= 128 bits, base64url
    expect(await locks.acquire(name)).toBeNull(); // held: an outcome, not an error
    expect(await first?.release()).toBe(true);
    expect(await first?.release()).toBe(false);
    const second = await locks.acquire(name);
    expect(second?.fence).toBeGreaterThan(first?.fence as number);
    await second?.release();
  });

  it('waits for a held lock and gets it once released; gives up after wait', async () => {
    const locks = createLocks(client());
    const name = unique('lock');
    const holder = await locks.acquire(name, { ttl: '10s' });
    setTimeout(() => void holder?.release(), 150);
    const waiter = await locks.acquire(name, { wait: '3s', retryDelay: '20ms' });
    expect(waiter).not.toBeNull();
    expect(await locks.acquire(name, { wait: '100ms', retryDelay: '20ms' })).toBeNull();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    expect(await locks.acquire(name, { wait: '10s', signal: controller.signal })).toBeNull();
    await waiter?.release();
  });

  it('extends only while held, and a stale handle touches nothing of the next owner', async () => {
    const redis = client();
    const locks = createLocks(redis);
    const name = unique('lock');
    const stale = await locks.acquire(name, { ttl: 100 });
    await sleep(200);
    const owner = await locks.acquire(name, { ttl: '10s' });
    expect(owner).not.toBeNull();
    expect(await stale?.extend(10_000)).toBe(false);
    expect(await stale?.release()).toBe(false);
    expect(await redis.client.get(locks.lockKey(name))).toBe(owner?.token);
    expect(stale?.remainingMs()).toBe(0);
    expect(await owner?.extend(20_000)).toBe(true);
    expect(await redis.client.pttl(locks.lockKey(name))).toBeGreaterThan(10_000);
    await owner?.release();
  });
});

describe('using()', () => {
  it('extends in the background so work longer than the TTL keeps the lock', async () => {
    const locks = createLocks(client());
    const name = unique('using');
    const result = await locks.using(
      name,
      async (signal) => {
        await sleep(1400);
        expect(await locks.acquire(name)).toBeNull(); // still ours after more than twice the TTL
        return signal.aborted;
      },
      { ttl: 600 },
    );
    expect(result).toEqual({ acquired: true, value: false, lost: false });
    expect(await locks.acquire(name)).not.toBeNull(); // released afterwards
  });

  it('fires the signal when the lock is lost, and when maxExtensions is reached', async () => {
    const redis = client();
    const locks = createLocks(redis);
    const name = unique('using');
    const lost = await locks.using(
      name,
      async (signal) => {
        await redis.client.del(locks.lockKey(name)); // someone broke it
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        return (signal.reason as Error).message;
      },
      // TTLs of seconds, not milliseconds: on a busy machine an extension's round trip must not lose to the watchdog.
      { ttl: 2000 },
    );
    expect(lost).toMatchObject({ acquired: true, lost: true, value: expect.stringMatching(/another holder/) });

    const capped = await locks.using(
      unique('using'),
      async (signal) => {
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        return (signal.reason as Error).message;
      },
      { ttl: 1000, maxExtensions: 2 },
    );
    expect(capped).toMatchObject({ acquired: true, lost: true, value: expect.stringMatching(/maxExtensions \(2\)/) });
  });

  it('does not extend after it released, even with an extension in flight', async () => {
    const redis = client();
    const locks = createLocks(redis);
    const name = unique('using');
    let aborted = false;
    const result = await locks.using(
      name,
      async (signal) => {
        signal.addEventListener('abort', () => (aborted = true));
        await sleep(1005); // returns right as the extension at 1000 ms is in flight
        return 'done';
      },
      { ttl: 2000 },
    );
    expect(result).toEqual({ acquired: true, value: 'done', lost: false });
    await sleep(300);
    expect(aborted).toBe(false);
    expect(await redis.client.exists(locks.lockKey(name))).toBe(0); // released, not re-extended
  });

  it('reports the lock as lost when fn blocked the event loop past the TTL', async () => {
    const locks = createLocks(client());
    const result = await locks.using(
      unique('using'),
      async () => {
        const until = Date.now() + 400;
        while (Date.now() < until) {} // a long synchronous stretch: no timer can run
        return 1;
      },
      { ttl: 200 },
    );
    expect(result).toMatchObject({ acquired: true, lost: true });
  });

  it('releases the lock when fn throws, and passes the error on', async () => {
    const locks = createLocks(client());
    const name = unique('using');
    await expect(locks.using(name, async () => Promise.reject(new Error('work failed')))).rejects.toThrowError(
      'work failed',
    );
    const again = await locks.acquire(name);
    expect(again).not.toBeNull();
    await again?.release();
  });

  it('refuses an extendAt outside (0, 1)', async () => {
    const locks = createLocks(client());
    await expect(locks.using(unique('u'), async () => 1, { extendAt: 0 })).rejects.toThrowError(/extendAt/);
  });

  it('reports a busy lock as not acquired, without running fn', async () => {
    const locks = createLocks(client());
    const name = unique('using');
    const holder = await locks.acquire(name);
    let ran = false;
    expect(await locks.using(name, async () => (ran = true))).toEqual({ acquired: false });
    expect(ran).toBe(false);
    await holder?.release();
  });
});

describe('locks across processes', () => {
  it('4 processes x 200 increments under the lock: no lost update, fences strictly increase', async () => {
    const redis = client();
    const name = unique('mutex');
    const counter = `${redis.options.prefix}:counter`;
    const workers = Array.from({ length: 4 }, () =>
      startWorker('increment', {
        redis: testRedisOptions(),
        prefix: redis.options.prefix,
        n: 200,
        lock: name,
        counter,
      }),
    );
    const outputs = await Promise.all(workers.map((w) => w.done()));
    expect(await redis.client.get(counter)).toBe('800');
    const seen = outputs.flatMap((events) => (events.find((e) => e.done)?.seen as [number, number][]) ?? []);
    expect(seen).toHaveLength(800);
    seen.sort((a, b) => a[0] - b[0]);
    // Every value read exactly once, and in the order values were read, fences only grow.
    expect(seen.map(([value]) => value)).toEqual(Array.from({ length: 800 }, (_, i) => i));
    for (let i = 1; i < seen.length; i++)
      expect((seen[i] as [number, number])[1]).toBeGreaterThan((seen[i - 1] as [number, number])[1]);
  }, 60_000);

  it('a holder paused past its TTL loses the lock: its release, extend and fenced write fail after SIGCONT', async () => {
    const redis = client();
    const locks = createLocks(redis);
    const name = unique('paused');
    const resource = `${redis.options.prefix}:{res}:doc`;
    const holder = startWorker('hold', {
      redis: testRedisOptions(),
      prefix: redis.options.prefix,
      lock: name,
      ttlMs: 500,
      resource,
    });
    const { fence: oldFence } = await holder.next((e) => e.acquired === true);
    holder.child.kill('SIGSTOP');
    try {
      await sleep(800);
      const next = await locks.acquire(name, { ttl: '10s' });
      expect(next).not.toBeNull();
      expect(next?.fence).toBeGreaterThan(oldFence as number);
      expect(await locks.fencedSet(resource, 'from the new holder', next?.fence as number)).toBe(true);
    } finally {
      holder.child.kill('SIGCONT');
    }
    const result = await holder.next((e) => 'released' in e);
    expect(result).toMatchObject({ extended: false, released: false, fencedWrite: false, remainingMs: 0 });
    expect(await redis.client.get(resource)).toBe('from the new holder');
    await holder.done();
  }, 30_000);

  it('a holder killed with SIGKILL frees the lock within its TTL', async () => {
    const redis = client();
    const locks = createLocks(redis);
    const name = unique('killed');
    const holder = startWorker('hold', {
      redis: testRedisOptions(),
      prefix: redis.options.prefix,
      lock: name,
      ttlMs: 1000,
      resource: 'unused',
    });
    await holder.next((e) => e.acquired === true);
    holder.child.kill('SIGKILL');
    const started = performance.now();
    const next = await locks.acquire(name, { wait: '5s', retryDelay: '20ms' });
    expect(next).not.toBeNull();
    expect(performance.now() - started).toBeLessThan(1000 + 1000);
    await next?.release();
  }, 30_000);
});

describe('when Redis is down', () => {
  it('acquire fails fast with a connection or timeout error, never hangs', async () => {
    const s = await server();
    const locks = createLocks(client({ url: s.url, commandTimeout: 300, breaker: false, prefix: 'down' }));
    await s.stop();
    await expect(locks.acquire('x')).rejects.toMatchObject({ code: expect.stringMatching(/E_CONNECTION|E_TIMEOUT/) });
  });
});
