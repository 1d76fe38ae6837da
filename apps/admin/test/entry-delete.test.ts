/**
 * Deletes from the console leave tombstones where a real patterns Cache
 * would: the tombstone is byte for byte the Cache's own, and a Cache load
 * that read its key before the console's delete (then saw a write-through
 * set come and the console delete it) is refused instead of writing the
 * value it read from the source before the delete. Keys that are not Cache
 * entries are unlinked as before, and every instance hears of the delete.
 */
import { encodeKeyPart } from '@stratacache/core-client';
import { createInvalidationBus } from '@stratacache/invalidation';
import { createCache } from '@stratacache/patterns';
import { eventually } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEntryHeader, ENTRY_HEADER_SIZE, encodeTombstone } from '../src/entry-header.js';
import { type Client, loggedIn, startConsole, type TestConsole } from './helpers.js';

let c: TestConsole;
let admin: Client;
beforeAll(async () => {
  c = await startConsole({ tombstoneTtl: '45s' });
  admin = await loggedIn(c.server);
});
afterAll(async () => {
  await c?.close();
});

const id = (key: string) => Buffer.from(key).toString('base64url');
/** The Redis key of a Cache key, as the key builder writes it (`:` in the id percent-encoded). */
const entryKey = (key: string) => `${c.prefix}:cache:e:${encodeKeyPart(key)}`;

/** A gate a factory waits on, and a signal that it started. */
function gate() {
  let open!: () => void;
  let started!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const began = new Promise<void>((resolve) => {
    started = resolve;
  });
  return { open, started, opened, began };
}

/**
 * The harmful order: a load begins on a miss and reads the source ('old'),
 * the source changes and an instance writes the new value through, the
 * console deletes the key, then the load tries to write 'old' back.
 * Resolves what the loader's caller got.
 */
async function raceAgainst(key: string, consoleDelete: () => Promise<void>) {
  const loader = createCache({ redis: c.redis, memory: false, defaults: { ttl: '10m' } });
  const writer = createCache({ redis: c.redis, memory: false, defaults: { ttl: '10m' } });
  const g = gate();
  const load = loader.getOrSet(key, async () => {
    g.started();
    await g.opened;
    return 'old';
  });
  await g.began;
  await writer.set(key, 'new');
  await consoleDelete();
  g.open();
  const got = await load;
  const refused = loader.stats().refused;
  loader.close();
  writer.close();
  return { got, refused };
}

describe('the tombstone', () => {
  it('is byte for byte what a patterns Cache delete writes', async () => {
    const cache = createCache({ redis: c.redis, memory: false, tombstoneTtl: '45s', defaults: { ttl: '10m' } });
    await cache.set('gone', { v: 1 }, { tags: ['t'], version: 3 });
    await cache.delete('gone');
    const written = (await c.redis.client.getBuffer(entryKey('gone'))) as Buffer;
    const header = decodeEntryHeader(written);
    expect(header).toMatchObject({ kind: 2, kindName: 'tombstone', version: 0, tags: [], isUndefined: false });
    expect(written.length).toBe(ENTRY_HEADER_SIZE);
    expect(encodeTombstone(header?.asOf ?? 0, 45_000).equals(written)).toBe(true);
    cache.close();
  });
});

describe('a delete from the console', () => {
  it('leaves a tombstone, so a load that began before it is refused (single key)', async () => {
    const key = entryKey('raced');
    const { got, refused } = await raceAgainst('raced', async () => {
      const response = await admin.post('/keys/delete', { k: id(key) });
      expect(response.statusCode).toBe(303);
    });
    expect(got).toBe('old'); // the caller still gets what it loaded: it was right when the load began
    expect(refused).toBe(1);
    const stored = (await c.redis.client.getBuffer(key)) as Buffer;
    expect(decodeEntryHeader(stored)?.kindName).toBe('tombstone');
    const pttl = await c.redis.client.pttl(key);
    expect(pttl).toBeGreaterThan(30_000);
    expect(pttl).toBeLessThanOrEqual(45_000);
    const reader = createCache({ redis: c.redis, memory: false });
    expect(await reader.get('raced')).toBeUndefined();
    reader.close();
    const [entry] = await c.server.context.audit.recent(1);
    expect(entry).toMatchObject({ action: 'key.delete', target: key });
  });

  it('says on the confirmation page that a Cache entry becomes a tombstone, and another key is unlinked', async () => {
    const cache = createCache({ redis: c.redis, memory: false, defaults: { ttl: '10m' } });
    await cache.set('shown', 1);
    const entry = await admin.get(`/keys/delete?k=${id(entryKey('shown'))}`);
    expect(entry.body).toMatch(
      /data-testid="delete-plan">This is a Cache entry: it is replaced by a tombstone that lives 45s/,
    );
    await c.redis.client.set(entryKey('plain'), 'not an entry');
    const plain = await admin.get(`/keys/delete?k=${id(entryKey('plain'))}`);
    expect(plain.body).toContain('The key is unlinked');
    cache.close();
  });

  it('leaves tombstones for Cache entries under a prefix and unlinks the other keys there', async () => {
    const cache = createCache({ redis: c.redis, memory: false, defaults: { ttl: '10m' } });
    await cache.set('pre:1', 'one');
    await cache.set('pre:2', 'two');
    await c.redis.client.set(entryKey('pre:plain'), 'another writer');
    await c.redis.client.hset(entryKey('pre:hash'), 'f', 'v');
    await cache.set('kept', 'not under the prefix');
    const { got, refused } = await raceAgainst('pre:raced', async () => {
      const done = await admin.post('/keys/invalidate', {
        ns: 'cache',
        prefix: 'e:pre',
        confirm: 'yes',
        expected: '5',
      });
      expect(done.statusCode).toBe(200);
      expect(done.body).toMatch(
        /Deleted 5 keys .*: 3 Cache entries replaced by tombstones \(for 45s\), 2 other keys unlinked/,
      );
    });
    expect(got).toBe('old');
    expect(refused).toBe(1);
    for (const key of ['pre:1', 'pre:2', 'pre:raced']) {
      expect(decodeEntryHeader((await c.redis.client.getBuffer(entryKey(key))) as Buffer)?.kindName, key).toBe(
        'tombstone',
      );
      expect(await cache.get(key)).toBeUndefined();
    }
    expect(await c.redis.client.exists(entryKey('pre:plain'), entryKey('pre:hash'))).toBe(0);
    expect(await cache.get('kept')).toBe('not under the prefix');
    cache.close();
  });

  it('unlinks what is not a Cache entry: another writer’s string or hash of kind e, a key of another kind', async () => {
    await c.redis.client.set(entryKey('foreign'), 'plain text');
    await c.redis.client.hset(entryKey('foreign-hash'), 'f', 'v');
    await c.redis.client.set(`${c.prefix}:cache:x:other`, 'v');
    for (const key of [entryKey('foreign'), entryKey('foreign-hash'), `${c.prefix}:cache:x:other`]) {
      expect((await admin.post('/keys/delete', { k: id(key) })).statusCode, key).toBe(303);
      expect(await c.redis.client.exists(key), key).toBe(0);
    }
  });

  it('tells every instance over the bus: an application’s memory copy is dropped', async () => {
    const bus = createInvalidationBus(c.redis);
    await bus.start();
    const app = createCache({ redis: c.redis, bus, defaults: { ttl: '10m' } });
    await app.set('in-memory', 'cached');
    expect(app.stats().memoryEntries).toBe(1);
    expect((await admin.post('/keys/delete', { k: id(entryKey('in-memory')) })).statusCode).toBe(303);
    await eventually(async () => app.stats().memoryEntries === 0);
    expect(await app.get('in-memory')).toBeUndefined();
    app.close();
    await bus.stop();
  });
});
