/**
 * The stream reply parsers against what a real Redis answers, over RESP2 and
 * RESP3 (both ioredis 6 reply mappings), with strings and with Buffers.
 */
import { cleanupNamespace, connectTestRedis, uniqueNamespace } from '@stratacache/test-utils';
import type { Redis, RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  parseAutoClaimReply,
  parseGroupsReply,
  parsePendingReply,
  parseStreamEntries,
  parseStreamsReply,
} from '../src/index.js';

const variants: [string, RedisOptions][] = [
  ['RESP2', { protocol: 2 }],
  ['RESP3 legacy mapping', { protocol: 3, replyMapping: 'legacy' }],
  ['RESP3 resp3 mapping', { protocol: 3, replyMapping: 'resp3' }],
];

describe.each(variants)('stream replies over %s', (_label, options) => {
  let redis: Redis;
  const ns = uniqueNamespace('stream-replies');
  const a = `${ns}:a`;
  const b = `${ns}:b`;

  beforeAll(async () => {
    redis = connectTestRedis(options);
    await redis.xgroup('CREATE', a, 'g', '0', 'MKSTREAM');
    await redis.xgroup('CREATE', b, 'g', '0', 'MKSTREAM');
    await redis.xadd(a, '1-1', 'n', '1', 'kind', 'x');
    await redis.xadd(a, '1-2', 'n', '2');
    await redis.xadd(b, '2-1', 'n', '3');
  });
  afterAll(async () => {
    await cleanupNamespace(redis, ns);
    redis.disconnect();
  });

  test('XREADGROUP of two streams, as strings and as Buffers; an empty read', async () => {
    const reply = await redis.call('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '10', 'STREAMS', a, b, '>', '>');
    const streams = parseStreamsReply<string>(reply);
    expect([...streams.keys()]).toEqual([a, b]);
    expect(streams.get(a)?.map((e) => [e.id, Object.fromEntries(e.fields ?? [])])).toEqual([
      ['1-1', { n: '1', kind: 'x' }],
      ['1-2', { n: '2' }],
    ]);
    expect(streams.get(b)?.[0]?.id).toBe('2-1');

    const again = await redis.callBuffer('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '10', 'STREAMS', a, '0');
    const pel = parseStreamsReply<Buffer>(again).get(a) ?? [];
    expect(pel.map((e) => e.id)).toEqual(['1-1', '1-2']);
    expect(Buffer.isBuffer(pel[0]?.fields?.get('n'))).toBe(true);
    expect(pel[0]?.fields?.get('n')?.toString()).toBe('1');

    const none = await redis.call('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '10', 'STREAMS', a, '>');
    expect(parseStreamsReply(none).size).toBe(0);
  });

  test('a pending entry deleted from the stream reads back with null fields', async () => {
    const c = `${ns}:c`;
    await redis.xgroup('CREATE', c, 'g', '0', 'MKSTREAM');
    await redis.xadd(c, '5-1', 'n', '1');
    await redis.call('XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', c, '>');
    await redis.xdel(c, '5-1');
    const pel = parseStreamsReply(await redis.call('XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', c, '0')).get(c);
    expect(pel).toEqual([{ id: '5-1', fields: null }]);
  });

  test('XPENDING extended, XAUTOCLAIM (with deleted ids) and XCLAIM', async () => {
    const pending = parsePendingReply(await redis.call('XPENDING', a, 'g', '-', '+', '10'));
    expect(pending.map((p) => [p.id, p.consumer])).toEqual([
      ['1-1', 'c1'],
      ['1-2', 'c1'],
    ]);
    expect(pending[0]?.deliveries).toBeGreaterThanOrEqual(1);
    expect(pending[0]?.idleMs).toBeGreaterThanOrEqual(0);

    const claimed = parseAutoClaimReply<string>(await redis.call('XAUTOCLAIM', a, 'g', 'c2', '0', '0-0', 'COUNT', '1'));
    expect(claimed.entries.map((e) => e.id)).toEqual(['1-1']);
    expect(claimed.cursor).toBe('1-2');
    expect(claimed.deleted).toEqual([]);

    const byXclaim = parseStreamEntries<string>(await redis.call('XCLAIM', a, 'g', 'c3', '0', '1-2'));
    expect(byXclaim.map((e) => [e.id, e.fields?.get('n')])).toEqual([['1-2', '2']]);

    await redis.xdel(a, '1-1');
    const after = parseAutoClaimReply(await redis.call('XAUTOCLAIM', a, 'g', 'c4', '0', '0-0'));
    expect(after.deleted).toEqual(['1-1']);
    expect(after.entries.map((e) => e.id)).toEqual(['1-2']);
    expect(after.cursor).toBe('0-0');
  });

  test('XINFO GROUPS', async () => {
    const [group] = parseGroupsReply(await redis.call('XINFO', 'GROUPS', b));
    expect(group).toMatchObject({ name: 'g', consumers: 1, pending: 1, lastDeliveredId: '2-1' });
    expect(group?.lag).toBe(0);
    await redis.xadd(b, '2-2', 'n', '4');
    const [later] = parseGroupsReply(await redis.callBuffer('XINFO', 'GROUPS', b));
    expect(later?.lag).toBe(1);
    expect(later?.entriesRead).toBe(1);
  });
});

test('unexpected shapes give empty results, never a throw', () => {
  expect(parseStreamsReply(null).size).toBe(0);
  expect(parseStreamEntries('nope')).toEqual([]);
  expect(parseAutoClaimReply(null)).toEqual({ cursor: '0-0', entries: [], deleted: [] });
  expect(parsePendingReply(42)).toEqual([]);
  expect(parseGroupsReply(undefined)).toEqual([]);
});
