/** Bad options are refused with a ConfigError naming the option. */
import { StratacacheError } from '@stratacache/core-client';
import { describe, expect, it } from 'vitest';
import { createSessionManager, type SessionManagerOptions } from '../src/index.js';
import { client, SECRET } from './helpers.js';

describe('options', () => {
  const redis = client();
  const cases: [string, Partial<SessionManagerOptions> & Record<string, unknown>, RegExp][] = [
    ['no secret', { secret: undefined }, /^secret is required/],
    ['short secret', { secret: 'short' }, /^secret must be at least 32 bytes/],
    ['short secret in a list', { secret: [SECRET, 'x'] }, /^secret\[1\] must be at least 32 bytes/],
    ['empty secret list', { secret: [] }, /^secret must list/],
    ['bad namespace', { namespace: 'a:b' }, /^namespace must be/],
    ['bad idle', { idleTimeout: 'soon' as never }, /idleTimeout/],
    ['zero absolute', { absoluteTimeout: 0 }, /^absoluteTimeout must be more than 0/],
    [
      'idle over absolute',
      { idleTimeout: '2h', absoluteTimeout: '1h' },
      /^idleTimeout must not be longer than absoluteTimeout \(3600000 ms\); got "2h"/,
    ],
    ['bad limit', { maxSessionsPerUser: 1.5 }, /^maxSessionsPerUser must be/],
    // 0 used to mean "no limit" silently; Infinity (or leaving it unset) says that now.
    [
      'a limit of 0',
      { maxSessionsPerUser: 0 },
      /^maxSessionsPerUser must be a positive integer \(or Infinity for no limit\); got 0/,
    ],
    ['bad policy', { onLimit: 'drop' as never }, /^onLimit must be/],
    ['bad bindIp', { bindIp: 'nearby' as never }, /^bindIp must be/],
    ['bad prefix', { bindIp: { mode: 'subnet', ipv4Prefix: 33 } }, /^bindIp.ipv4Prefix must be/],
    ['bad bindUserAgent', { bindUserAgent: 'yes' as never }, /^bindUserAgent must be/],
    ['no redis', { redis: undefined }, /^redis must be/],
  ];
  for (const [label, patch, message] of cases) {
    it(`refuses ${label}`, () => {
      let error: unknown;
      try {
        createSessionManager({ redis, secret: SECRET, ...patch } as SessionManagerOptions);
      } catch (e) {
        error = e;
      }
      expect(StratacacheError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(message) });
    });
  }

  it('resolves defaults once, frozen', () => {
    const m = createSessionManager({ redis, secret: Buffer.alloc(32, 7) });
    expect(m.options).toMatchObject({
      namespace: 'sessions',
      idleMs: 30 * 60_000,
      absoluteMs: 8 * 3_600_000,
      maxSessionsPerUser: Number.POSITIVE_INFINITY,
      onLimit: 'evict-oldest',
      bindIp: undefined,
      bindUserAgent: undefined,
      keyRing: undefined,
    });
    expect(Object.isFrozen(m.options)).toBe(true);
  });

  it('refuses bad user ids at call time', async () => {
    const m = createSessionManager({ redis, secret: SECRET });
    await expect(m.create('' as string, {})).rejects.toMatchObject({ code: 'E_CONFIG', message: /userId/ });
    await expect(m.count(42 as unknown as string)).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});
