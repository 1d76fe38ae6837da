/**
 * Nothing fails silently: a value that cannot be encoded, Redis refusing a
 * command, Redis not answering. Each reaches the caller as an error or a
 * documented result, is counted and published, and costs at most one
 * command timeout per verb.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CoreChannels } from '@stratacache/core-client';
import { describe, expect, it } from 'vitest';
import { PatternsChannels } from '../src/index.js';
import { cache, client, listen, server } from './helpers.js';

describe('a value the serializer cannot encode', () => {
  it('rejects getOrSet and set, is counted and published, and is never half-cached', async () => {
    const c = cache<unknown>({ redis: client() });
    const errors = listen(PatternsChannels.error);
    let calls = 0;
    await expect(
      c.getOrSet('big', () => {
        calls++;
        return { n: 10n };
      }),
    ).rejects.toMatchObject({ code: 'E_SERIALIZATION_ENCODE' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(c.set('loop', circular)).rejects.toMatchObject({ code: expect.stringMatching(/^E_SERIALIZATION/) });
    errors.stop();
    expect(calls).toBe(1);
    expect(c.stats().errors).toBe(2);
    expect(errors.messages.map((m) => m.operation)).toEqual(['encode', 'encode']);
    expect(await c.get('big')).toBeUndefined();
    expect(await c.get('loop')).toBeUndefined();
  });
});

describe('Redis refusing a command', () => {
  it('reaches the caller even without throwErrors (a refusal is not an outage)', async () => {
    const redis = client();
    const c = cache<string>({ redis, memory: false });
    // Another program wrote a hash where the cache keeps its entry.
    await redis.client.hset(`${redis.options.prefix}:cache:e:k`, 'field', 'value');
    await expect(c.get('k')).rejects.toMatchObject({ message: expect.stringContaining('WRONGTYPE') });
    await expect(c.getOrSet('k', () => 'v')).rejects.toMatchObject({ message: expect.stringContaining('WRONGTYPE') });
  });
});

describe('Redis not answering', () => {
  it('getOrSet serves the factory after one failed command, not one per step', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 300, breaker: false });
    const c = cache<string>({ redis, memory: false });
    await c.set('warm', 'x'); // connected, clock sampled
    const failed: unknown[] = [];
    const onFail = (m: unknown) => failed.push(m);
    subscribe(CoreChannels.commandError, onFail);
    s.pause();
    try {
      expect(await c.getOrSet('k', () => 'from the source')).toBe('from the source');
      expect(failed).toHaveLength(1);
    } finally {
      unsubscribe(CoreChannels.commandError, onFail);
      s.resume();
    }
  });
});
