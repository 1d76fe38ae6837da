/**
 * redis.clock: the Redis server's time estimated locally. Its bounds must
 * hold against the server's own TIME, it must not move with this process's
 * wall clock, and it must resample after a reconnect.
 */
import { describe, expect, it } from 'vitest';
import { RedisClock } from '../src/index.js';
import { client, eventually, server } from './helpers.js';

const serverNow = async (redis: ReturnType<typeof client>) => {
  const [s, us] = await redis.client.time();
  return Number(s) * 1000 + Number(us) / 1000;
};

describe('redis.clock', () => {
  it('brackets the server time with lower() and upper()', async () => {
    const redis = client();
    await redis.clock.ready();
    expect(redis.clock.synced).toBe(true);
    for (let i = 0; i < 20; i++) {
      const lower = redis.clock.lower();
      const time = await serverNow(redis);
      const upper = redis.clock.upper();
      expect(lower).toBeLessThanOrEqual(time);
      expect(time).toBeLessThanOrEqual(upper);
    }
    expect(redis.clock.doubt()).toBeLessThan(1000);
  });

  it('does not follow this process when its wall clock jumps', async () => {
    const redis = client();
    await redis.clock.ready();
    const realNow = Date.now;
    Date.now = () => realNow() + 3_600_000;
    try {
      const time = await serverNow(redis);
      expect(Math.abs(redis.clock.now() - time)).toBeLessThan(1000);
    } finally {
      Date.now = realNow;
    }
  });

  it('falls back to the local clock before its first sample, with unbounded doubt', () => {
    const clock = new RedisClock(() => new Promise(() => {}));
    expect(clock.synced).toBe(false);
    expect(clock.doubt()).toBe(Number.POSITIVE_INFINITY);
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(50);
  });

  it('keeps the tightest sample, and rejects ready() when the server cannot be read', async () => {
    let calls = 0;
    const clock = new RedisClock(async () => {
      calls++;
      throw new Error('down');
    });
    await expect(clock.ready()).rejects.toThrow('down');
    expect(calls).toBe(1);
    expect(clock.synced).toBe(false);
  });

  it('samples the server again after a reconnect', async () => {
    const s = await server();
    const redis = client({ url: s.url });
    await redis.clock.ready();
    await s.restart();
    // The reconnect's 'ready' resamples: the estimate still brackets the server's time.
    await eventually(async () => (await redis.client.ping().catch(() => '')) === 'PONG');
    const lower = redis.clock.lower();
    const time = await serverNow(redis);
    expect(lower).toBeLessThanOrEqual(time);
    expect(time).toBeLessThanOrEqual(redis.clock.upper());
  });
});

describe('resampling', () => {
  it('resamples a wide first sample soon, not after resyncMs, and not on every read', async () => {
    const redis = client();
    let slow = true;
    let reads = 0;
    // The first samples are taken while "this process is busy": 20 ms pass around each TIME.
    const clock = new RedisClock(async () => {
      reads++;
      if (slow) await new Promise((resolve) => setTimeout(resolve, 20));
      return serverNow(redis);
    });
    await clock.ready();
    expect(clock.doubt()).toBeGreaterThan(5);
    expect(reads).toBe(3);
    slow = false;
    // Within the first quick interval reads do not sample again.
    for (let i = 0; i < 50; i++) clock.now();
    expect(reads).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 120));
    clock.now(); // due: one background sample, far tighter, replaces the wide one
    // (On a loaded machine that sample may be wide too: reads keep resampling, further apart each time.)
    await eventually(async () => {
      clock.now();
      return clock.doubt() <= 0.5; // 1 ms wide: tight
    }, 20_000);
    const lower = clock.lower();
    const time = await serverNow(redis);
    expect(lower).toBeLessThanOrEqual(time);
    expect(time).toBeLessThanOrEqual(clock.upper());
    // Tight now: the next sample waits for resyncMs (10 s), whatever the reads.
    const after = reads;
    await new Promise((resolve) => setTimeout(resolve, 250));
    for (let i = 0; i < 50; i++) clock.now();
    expect(reads).toBe(after);
  });

  it('a server that cannot be read is asked again after a wait, not on every read', async () => {
    let reads = 0;
    let down = false;
    const clock = new RedisClock(async () => {
      reads++;
      if (down) throw new Error('down');
      await new Promise((resolve) => setTimeout(resolve, 5)); // wide: quick resamples are due
      return Date.now();
    });
    await clock.ready();
    down = true;
    await new Promise((resolve) => setTimeout(resolve, 120));
    const before = reads;
    for (let i = 0; i < 20; i++) {
      clock.now();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(reads).toBe(before + 1);
    expect(clock.synced).toBe(true); // the old sample is kept
  });

  it('keeps a tight sample when a later one comes back slow (a stalled server)', async () => {
    let delay = 0;
    let base = Date.now();
    const clock = new RedisClock(
      async () => {
        const at = base + performance.now();
        await new Promise((resolve) => setTimeout(resolve, delay));
        return at;
      },
      { resyncMs: 1 },
    );
    base -= performance.now();
    await clock.ready();
    const tight = clock.doubt();
    delay = 300; // the server answers late now
    await new Promise((resolve) => setTimeout(resolve, 5));
    await clock.sync();
    expect(clock.doubt()).toBeLessThan(tight + 50);
  });
});
