/**
 * The typed script layer: every script's time fields come back in one order
 * (created, last seen, expires, absolute expiry) and are decoded in one place.
 * Each script's decoded times are checked against the timeouts they were
 * saved with, so a script that reorders its reply fails here.
 */
import { describe, expect, it } from 'vitest';
import { hmacId } from '../src/ids.js';
import { decodeTimes, SessionScripts } from '../src/session-scripts.js';
import type { SessionTimes } from '../src/types.js';
import { client, manager, SECRET } from './helpers.js';

const IDLE = 60_000;
const ABSOLUTE = 3_600_000;

function scriptsOn() {
  const redis = client();
  const keys = redis.keys('sessions');
  const tag = keys.tag('sessions');
  const prefix = keys.key('s', tag, '');
  const scripts = new SessionScripts(redis, prefix, [
    keys.key('exp', tag),
    keys.key('seen', tag),
    keys.key('born', tag),
    keys.key('stats', tag),
  ]);
  const indexKey = keys.key('u', tag, 'ann');
  return { scripts, prefix, indexKey };
}

/** What must hold for times saved with `idle` and ABSOLUTE, whichever script returned them. */
function expectConsistent(times: SessionTimes, idle: number, label: string) {
  expect(times.absoluteExpiresAt - times.createdAt, `${label}: absolute`).toBe(ABSOLUTE);
  expect(times.expiresAt - times.lastSeenAt, `${label}: idle`).toBe(idle);
  expect(times.lastSeenAt, `${label}: last seen`).toBeGreaterThanOrEqual(times.createdAt);
}

describe('session scripts', () => {
  it('decodes created, last seen, expires, absolute in that order', () => {
    expect(decodeTimes(['ok', '1', '2', '3', '4'], 1)).toEqual({
      createdAt: 1,
      lastSeenAt: 2,
      expiresAt: 3,
      absoluteExpiresAt: 4,
    });
  });

  it('save, read, touch, list and rename return the same times in the same order', async () => {
    const { scripts, prefix, indexKey } = scriptsOn();
    const member = hmacId(Buffer.from(SECRET), 'a'.repeat(43));
    const key = prefix + member;
    const saved = await scripts.save({
      key,
      member,
      indexKey,
      mode: 'create',
      value: Buffer.from('v1'),
      idleMs: IDLE,
      absoluteMs: ABSOLUTE,
      maxSessionsPerUser: Number.POSITIVE_INFINITY,
      onLimit: 'reject',
      anonymous: false,
      version: '',
      ipTag: '',
      uaTag: '',
    });
    if (saved.status !== 'ok') throw new Error(saved.status);
    expect(saved.created).toBe(true);
    expectConsistent(saved.times, IDLE, 'save');

    const read = await scripts.read(key, member, { touch: false, withValue: true, idleMs: 0, ipTag: '', uaTag: '' });
    if (read.status !== 'ok') throw new Error(read.status);
    expect(read.value.toString()).toBe('v1');
    expect(read.times).toEqual(saved.times);

    const touched = await scripts.read(key, member, {
      touch: true,
      withValue: false,
      idleMs: IDLE / 2,
      ipTag: '',
      uaTag: '',
    });
    if (touched.status !== 'ok') throw new Error(touched.status);
    expectConsistent(touched.times, IDLE / 2, 'touch');
    expect(touched.times.createdAt).toBe(saved.times.createdAt);

    const listed = await scripts.list(indexKey);
    expect(listed.sessions).toHaveLength(1);
    expect(listed.sessions[0]?.times).toEqual(touched.times);

    const newMember = hmacId(Buffer.from(SECRET), 'b'.repeat(43));
    const renamed = await scripts.rename({
      oldKey: key,
      newKey: prefix + newMember,
      oldMember: member,
      newMember,
      value: Buffer.from('v2'),
      version: read.version,
      ipTag: '',
      uaTag: '',
    });
    if (renamed.status !== 'ok') throw new Error(renamed.status);
    expectConsistent(renamed.times, IDLE / 2, 'rename');
    expect(renamed.times.createdAt).toBe(saved.times.createdAt);
    expect(
      await scripts.read(key, member, { touch: false, withValue: false, idleMs: 0, ipTag: '', uaTag: '' }),
    ).toEqual({ status: 'unknown' });
    expect(await scripts.count(indexKey)).toEqual({ expired: 0, count: 1 });
    expect(await scripts.destroy(prefix + newMember, newMember)).toBe(true);
  });

  it('the manager reports one set of times whichever verb read them', async () => {
    const sessions = manager<{ n: number }>({ idleTimeout: IDLE, absoluteTimeout: ABSOLUTE });
    const created = await sessions.create('ann', { n: 1 });
    if (!created.created) throw new Error('not created');
    const views: [string, SessionTimes][] = [['create', created.session]];
    const peeked = await sessions.peek(created.id);
    if (peeked.valid) views.push(['peek', peeked]);
    const touched = await sessions.touch(created.id);
    if (touched.valid) views.push(['touch', touched]);
    const updated = await sessions.update(created.id, { n: 2 });
    if (updated.valid) views.push(['update', updated]);
    const [listed] = await sessions.list('ann');
    if (listed) views.push(['list', listed]);
    const regenerated = await sessions.regenerate(created.id);
    if (regenerated.valid) views.push(['regenerate', regenerated]);
    expect(views.map(([label]) => label)).toEqual(['create', 'peek', 'touch', 'update', 'list', 'regenerate']);
    for (const [label, times] of views) {
      expectConsistent(times, IDLE, label);
      expect(times.createdAt, label).toBe(created.session.createdAt);
      expect(times.absoluteExpiresAt, label).toBe(created.session.absoluteExpiresAt);
    }
  });
});
