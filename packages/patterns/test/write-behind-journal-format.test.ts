/**
 * The journal's wire format is a contract with every journal already in Redis:
 * entries written by an older release must be read by this one, and this one
 * must write what older workers read. The field names are spelled here as
 * literals, on purpose, and not taken from the code: renaming a field in the
 * code must fail this file.
 */
import { json } from '@stratacache/serializers';
import { afterEach, describe, expect, it } from 'vitest';
import { createWriteBehind, type WriteBehind, type WriteBehindEntry, type WriteBehindOptions } from '../src/index.js';
import { client } from './helpers.js';

const started: WriteBehind<unknown>[] = [];
const fast = { backoff: { initial: 5, max: 20 }, flushInterval: 10 };

function make<T>(options: WriteBehindOptions<T>): WriteBehind<T> {
  const wb = createWriteBehind<T>(options);
  wb.on('error', () => {});
  started.push(wb as WriteBehind<unknown>);
  return wb;
}

afterEach(async () => {
  await Promise.allSettled(started.splice(0).map((wb) => wb.close({ timeout: '5s' })));
});

/** `[field, value, ...]` of a stream entry as pairs; values as latin1, one character per byte, so nothing is lost. */
function pairs(flat: Buffer[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), (flat[i + 1] as Buffer).toString('latin1')]);
  return out;
}

/** `value` in the default serializer's envelope, as {@link pairs} shows it. */
const encoded = (value: unknown) => json().encode(value).toString('latin1');

describe('write-behind: journal format', () => {
  it('reads a journal written with the field names k, o, v, t and the ops s, d', async () => {
    const redis = client();
    const namespace = 'legacy';
    const journal = redis.keys(namespace).key('wb', 'journal');
    // What an earlier release's append script stored: the value in the json() envelope.
    const setId = await redis.client.xadd(
      journal,
      '*',
      'k',
      'user:1',
      'o',
      's',
      'v',
      json().encode({ name: 'Ada' }),
      't',
      '1700000000000',
    );
    const deleteId = await redis.client.xadd(journal, '*', 'k', 'user:2', 'o', 'd', 'v', '', 't', '1700000000001');
    const batches: WriteBehindEntry<{ name: string }>[][] = [];
    const wb = make<{ name: string }>({
      redis,
      namespace,
      ...fast,
      writer: async (batch) => {
        batches.push(batch);
      },
    });
    await wb.start();
    await wb.flush();
    expect(batches.flat()).toEqual([
      { key: 'user:1', op: 'set', value: { name: 'Ada' }, at: 1700000000000, id: setId },
      { key: 'user:2', op: 'delete', value: undefined, at: 1700000000001, id: deleteId },
    ]);
    expect(await wb.deadLetterDepth()).toBe(0);
    expect(await wb.depth()).toBe(0);
  });

  it('journals writes and deletes under the field names k, o, v, t', async () => {
    const redis = client();
    const namespace = 'written';
    const wb = make<{ name: string }>({ redis, namespace, writer: async () => {}, ...fast });
    const before = Date.now();
    await wb.write('user:1', { name: 'Ada' });
    await wb.delete('user:2');
    const entries = await redis.client.xrangeBuffer(redis.keys(namespace).key('wb', 'journal'), '-', '+');
    expect(entries.map(([, flat]) => pairs(flat).map(([field]) => field))).toEqual([
      ['k', 'o', 'v', 't'],
      ['k', 'o', 'v', 't'],
    ]);
    const [set, del] = entries.map(([, flat]) => Object.fromEntries(pairs(flat)));
    expect(set).toMatchObject({ k: 'user:1', o: 's', v: encoded({ name: 'Ada' }) });
    expect(del).toMatchObject({ k: 'user:2', o: 'd', v: '' });
    expect(Number(set?.t)).toBeGreaterThanOrEqual(before);
  });

  it('parks dead letters under the field names j, k, o, v, t, r, e, a, c, f', async () => {
    const redis = client();
    const namespace = 'parked';
    const wb = make<string>({
      redis,
      namespace,
      ...fast,
      maxAttempts: 1,
      writer: async () => {
        throw new Error('constraint violation');
      },
    });
    await wb.write('a', 'A');
    const [[journalId]] = (await redis.client.xrange(redis.keys(namespace).key('wb', 'journal'), '-', '+')) as [
      [string, string[]],
    ];
    await wb.start();
    await expect(wb.flush()).rejects.toThrow(/dead-letter/);
    const dead = await redis.client.xrangeBuffer(redis.keys(namespace).key('wb', 'dead'), '-', '+');
    expect(dead).toHaveLength(1);
    const fields = pairs(dead[0]?.[1] ?? []);
    expect(fields.map(([field]) => field)).toEqual(['j', 'k', 'o', 'v', 't', 'r', 'e', 'a', 'c', 'f']);
    expect(Object.fromEntries(fields)).toMatchObject({
      j: journalId,
      k: 'a',
      o: 's',
      v: encoded('A'),
      r: 'writer',
      e: 'constraint violation',
      a: '1',
      c: wb.consumer,
    });
  });

  it('reads dead letters written with the field names j, k, o, v, t, r, e, a, c, f', async () => {
    const redis = client();
    const namespace = 'old-dead';
    const deadId = await redis.client.xadd(
      redis.keys(namespace).key('wb', 'dead'),
      '*',
      'j',
      '1700000000000-0',
      'k',
      'user:1',
      'o',
      's',
      'v',
      json().encode({ name: 'Ada' }),
      't',
      '1700000000000',
      'r',
      'writer',
      'e',
      'database down',
      'a',
      '5',
      'c',
      'host:1:ab',
      'f',
      '1700000001000',
    );
    const wb = make<{ name: string }>({ redis, namespace, writer: async () => {} });
    expect(await wb.deadLetters()).toEqual([
      {
        deadId,
        id: '1700000000000-0',
        key: 'user:1',
        op: 'set',
        value: { name: 'Ada' },
        at: 1700000000000,
        reason: 'writer',
        error: 'database down',
        attempts: 5,
        consumer: 'host:1:ab',
        failedAt: 1700000001000,
      },
    ]);
  });
});
