/** IP and user-agent binding: exact, subnet (IPv4 and IPv6), detect. */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { ipBindingMaterial, ipBytes } from '../src/binding.js';
import { createSessionManager, SessionChannels, type SessionManagerOptions } from '../src/index.js';
import { client, SECRET, sleep } from './helpers.js';

const make = (options: Partial<SessionManagerOptions>) =>
  createSessionManager({ redis: client(), secret: SECRET, ...options });

describe('address arithmetic', () => {
  it('parses IPv4, IPv6 and IPv4-mapped addresses and masks networks', () => {
    expect(ipBytes('2001:db8::1', 'ipv6').toString('hex')).toBe('20010db8000000000000000000000001');
    expect(ipBytes('::', 'ipv6').toString('hex')).toBe('0'.repeat(32));
    expect(ipBytes('64:ff9b::192.0.2.1', 'ipv6').toString('hex')).toBe('0064ff9b0000000000000000c0000201');
    expect(ipBindingMaterial('203.0.113.77', 24, 64)).toBe('ipv4/24/cb007100');
    expect(ipBindingMaterial('::ffff:203.0.113.9', 24, 64)).toBe('ipv4/24/cb007100');
    expect(ipBindingMaterial('2001:db8:1:2:aaaa::1', 24, 48)).toBe(ipBindingMaterial('2001:db8:1:ffff::9', 24, 48));
    expect(ipBindingMaterial('2001:db8:1:2::1', 24, 64)).not.toBe(ipBindingMaterial('2001:db8:1:3::1', 24, 64));
    expect(ipBindingMaterial('203.0.113.77', 20, 64)).toBe('ipv4/20/cb007000');
    expect(ipBindingMaterial('not-an-ip', 24, 64)).toBeUndefined();
  });
});

describe('bindIp', () => {
  it("'exact' refuses another address, and a refused read neither touches nor returns the session", async () => {
    const m = make({ bindIp: 'exact', idleTimeout: 1000 });
    const r = await m.create('u', { secret: 1 }, { ip: '203.0.113.7' });
    if (!r.created) throw new Error('not created');
    await sleep(20);
    expect(await m.get(r.id, { ip: '203.0.113.8' })).toEqual({ valid: false, reason: 'ip-mismatch' });
    expect(await m.get(r.id, { ip: 'garbage' })).toEqual({ valid: false, reason: 'ip-mismatch' });
    const peek = await m.peek(r.id);
    expect(peek.valid && peek.lastSeenAt).toBe(r.session.lastSeenAt);
    expect(await m.get(r.id, { ip: '::ffff:203.0.113.7' })).toMatchObject({ valid: true, ip: '203.0.113.7' });
    expect((await m.stats()).bindingMismatches).toBe(2);
    await expect(m.get(r.id)).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringContaining('ip') });
    await expect(m.create('u', {})).rejects.toMatchObject({ code: 'E_CONFIG' });
  });

  it('an address that does not parse never matches, not even itself', async () => {
    const m = make({ bindIp: 'exact' });
    const r = await m.create('u', 1, { ip: 'unknown' });
    if (!r.created) throw new Error('not created');
    expect(await m.get(r.id, { ip: 'unknown' })).toEqual({ valid: false, reason: 'ip-mismatch' });
  });

  it("'subnet' accepts the same network for IPv4 and IPv6 and refuses another", async () => {
    const m = make({ bindIp: { mode: 'subnet', ipv4Prefix: 24, ipv6Prefix: 64 } });
    const v4 = await m.create('u', 1, { ip: '198.51.100.10' });
    const v6 = await m.create('u', 2, { ip: '2001:db8:aa:bb::10' });
    if (!v4.created || !v6.created) throw new Error('not created');
    expect((await m.get(v4.id, { ip: '198.51.100.250' })).valid).toBe(true);
    expect(await m.get(v4.id, { ip: '198.51.101.10' })).toEqual({ valid: false, reason: 'ip-mismatch' });
    expect(await m.get(v4.id, { ip: '2001:db8:aa:bb::10' })).toEqual({ valid: false, reason: 'ip-mismatch' });
    expect((await m.get(v6.id, { ip: '2001:db8:aa:bb:ffff::1' })).valid).toBe(true);
    expect(await m.get(v6.id, { ip: '2001:db8:aa:bc::10' })).toEqual({ valid: false, reason: 'ip-mismatch' });
  });

  it("'detect' returns the session with a warning and publishes the mismatch", async () => {
    const m = make({ bindIp: 'detect', bindUserAgent: 'detect' });
    const events: unknown[] = [];
    const listener = (message: unknown) => events.push(message);
    subscribe(SessionChannels.bindingMismatch, listener);
    try {
      const r = await m.create('u', 1, { ip: '192.0.2.1', userAgent: 'A' });
      if (!r.created) throw new Error('not created');
      expect(await m.get(r.id, { ip: '192.0.2.1', userAgent: 'A' })).toMatchObject({ valid: true, warnings: [] });
      expect(await m.get(r.id, { ip: '192.0.2.99', userAgent: 'B' })).toMatchObject({
        valid: true,
        warnings: ['ip-mismatch', 'ua-mismatch'],
      });
      expect(events).toEqual([
        { namespace: 'sessions', userId: 'u', kind: 'ip', enforced: false },
        { namespace: 'sessions', userId: 'u', kind: 'ua', enforced: false },
      ]);
    } finally {
      unsubscribe(SessionChannels.bindingMismatch, listener);
    }
  });

  it('bindUserAgent refuses another user agent; regenerate re-binds', async () => {
    const m = make({ bindUserAgent: true, bindIp: 'exact' });
    const r = await m.create('u', 1, { ip: '192.0.2.1', userAgent: 'Firefox' });
    if (!r.created) throw new Error('not created');
    expect(await m.get(r.id, { ip: '192.0.2.1', userAgent: 'Chrome' })).toEqual({
      valid: false,
      reason: 'ua-mismatch',
    });
    expect((await m.get(r.id, { ip: '192.0.2.1', userAgent: 'Firefox' })).valid).toBe(true);
    const moved = await m.regenerate(r.id, { ip: '192.0.2.2', userAgent: 'Chrome' });
    if (!moved.valid) throw new Error('not regenerated');
    expect((await m.get(moved.id, { ip: '192.0.2.2', userAgent: 'Chrome' })).valid).toBe(true);
    expect(await m.get(moved.id, { ip: '192.0.2.1', userAgent: 'Chrome' })).toEqual({
      valid: false,
      reason: 'ip-mismatch',
    });
  });
});
