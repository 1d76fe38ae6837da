/**
 * The durable write-behind journal against a real Redis: delivery, coalescing,
 * retries, dead letters, several workers, recovery after a worker hangs or its
 * process is killed, Redis down, and option validation.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ConfigError, ConnectionError, createRedis, StratacacheError } from '@stratacache/core-client';
import { eventually, testRedisUrl } from '@stratacache/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createWriteBehind,
  type WriteBehind,
  type WriteBehindDeadLetterEvent,
  type WriteBehindEntry,
  type WriteBehindOptions,
} from '../src/index.js';
import { readSink, sinkWriter } from './fixtures/write-behind-sink.ts';
import { client, server, unique } from './helpers.js';
import { startWriterProcess } from './processes.js';

const started: WriteBehind<unknown>[] = [];

/** A WriteBehind closed after the test (its drain errors are the test's business, not the cleanup's). */
function make<T>(options: WriteBehindOptions<T>): WriteBehind<T> {
  const wb = createWriteBehind<T>(options);
  wb.on('error', () => {});
  started.push(wb as WriteBehind<unknown>);
  return wb;
}

/** A writer that records every batch it is given. */
function recorder<T>() {
  const batches: WriteBehindEntry<T>[][] = [];
  const writer = async (batch: WriteBehindEntry<T>[]) => {
    batches.push(batch);
  };
  return { batches, writer, entries: () => batches.flat() };
}

const fast = { backoff: { initial: 5, max: 20 }, flushInterval: 10 };

afterEach(async () => {
  await Promise.allSettled(started.splice(0).map((wb) => wb.close({ timeout: '5s' })));
});

describe('write-behind: delivery', () => {
  it('hands a journaled write to the writer on flush, then leaves nothing in the journal', async () => {
    const redis = client();
    const sink = recorder<{ name: string }>();
    const wb = make({ redis, namespace: 'users', writer: sink.writer, ...fast });
    await wb.start();
    await wb.write('42', { name: 'Ada' });
    await wb.flush();
    expect(sink.entries()).toEqual([
      expect.objectContaining({ key: '42', op: 'set', value: { name: 'Ada' }, id: expect.any(String) }),
    ]);
    expect(sink.entries()[0]?.at).toBeTypeOf('number');
    expect(await wb.depth()).toBe(0);
  });

  it('coalesces writes to the same key: 100 writes to 3 keys reach the writer as 3 entries with the last values', async () => {
    const redis = client();
    const sink = recorder<number>();
    const wb = make({ redis, namespace: 'counters', writer: sink.writer, ...fast });
    const flushed: number[] = [];
    wb.on('flushed', (e) => flushed.push(e.journaled));
    // Journaled before the worker starts, so all 100 are read as one batch.
    for (let i = 0; i < 100; i++) await wb.write(`k${i % 3}`, i);
    expect(await wb.depth()).toBe(100);
    await wb.start();
    await wb.flush();
    expect(sink.batches).toHaveLength(1);
    expect(sink.entries().map((e) => [e.key, e.value])).toEqual([
      ['k1', 97],
      ['k2', 98],
      ['k0', 99],
    ]);
    expect(flushed).toEqual([100]);
    expect(await wb.depth()).toBe(0);
  });

  it('sends a delete, and only the delete when it follows a set of the same key', async () => {
    const redis = client();
    const sink = recorder<string>();
    const wb = make({ redis, namespace: 'docs', writer: sink.writer, ...fast });
    await wb.write('a', 'first');
    await wb.delete('a');
    await wb.delete('b');
    await wb.write('c', 'kept');
    await wb.start();
    await wb.flush();
    expect(sink.entries().map((e) => ({ key: e.key, op: e.op, value: e.value }))).toEqual([
      { key: 'a', op: 'delete', value: undefined },
      { key: 'b', op: 'delete', value: undefined },
      { key: 'c', op: 'set', value: 'kept' },
    ]);
  });

  it('flushes writes journaled before the worker existed, and drains on close', async () => {
    const redis = client();
    const sink = recorder<string>();
    const early = make({ redis, namespace: 'early', writer: sink.writer, ...fast });
    await early.write('x', '1');
    await early.write('y', '2');
    await early.start();
    await early.close();
    await early.close(); // idempotent
    expect(sink.entries().map((e) => e.key)).toEqual(['x', 'y']);
    await expect(early.write('z', '3')).rejects.toThrow(/closed/);
    await expect(early.flush()).rejects.toThrow(/start\(\)|closed/);
  });

  it('publishes depth and counts on stratacache:patterns:write-behind', async () => {
    const redis = client();
    const namespace = unique('metrics');
    const messages: Record<string, unknown>[] = [];
    const listener = (message: unknown) => {
      const m = message as Record<string, unknown>;
      if (m.namespace === namespace) messages.push(m);
    };
    subscribe('stratacache:patterns:write-behind', listener);
    try {
      const wb = make({ redis, namespace, writer: recorder<number>().writer, ...fast });
      for (let i = 0; i < 5; i++) await wb.write(`k${i}`, i);
      await wb.start();
      await wb.flush();
    } finally {
      unsubscribe('stratacache:patterns:write-behind', listener);
    }
    expect(messages).toContainEqual(expect.objectContaining({ namespace, depth: 0, flushed: 5, failed: 0 }));
  });
});

describe('write-behind: failures of the writer', () => {
  it('retries a failing writer and acknowledges once it succeeds', async () => {
    const redis = client();
    let calls = 0;
    const delivered: WriteBehindEntry<string>[] = [];
    const wb = make<string>({
      redis,
      namespace: 'flaky',
      ...fast,
      writer: async (batch) => {
        calls++;
        if (calls <= 2) throw new Error(`database unavailable (${calls})`);
        delivered.push(...batch);
      },
    });
    const retries: number[] = [];
    wb.on('retry', (e) => retries.push(e.attempt));
    await wb.start();
    await wb.write('a', 'A');
    await wb.flush();
    expect(calls).toBe(3);
    expect(retries).toEqual([1, 2]);
    expect(delivered.map((e) => [e.key, e.value])).toEqual([['a', 'A']]);
    expect(await wb.depth()).toBe(0);
    expect(await wb.deadLetterDepth()).toBe(0);
  });

  it('parks a batch the writer keeps failing in the dead-letter stream, reports it, and loses nothing', async () => {
    const redis = client();
    let calls = 0;
    const wb = make<string>({
      redis,
      namespace: 'broken',
      ...fast,
      maxAttempts: 3,
      writer: async () => {
        calls++;
        throw new Error('constraint violation');
      },
    });
    const parked: WriteBehindDeadLetterEvent<string>[] = [];
    wb.on('dead-letter', (e) => parked.push(e));
    await wb.write('a', 'A1');
    await wb.write('a', 'A2');
    await wb.write('b', 'B');
    await wb.start();
    const failure = await wb.flush().catch((e: unknown) => e);
    expect(StratacacheError.isInstance(failure) && failure.code).toBe('E_WRITE');
    expect(String((failure as Error).message)).toMatch(/dead-letter/);
    expect(calls).toBe(3);
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({ reason: 'writer', attempts: 3 });
    // Every journal entry is parked, superseded ones too: nothing is lost.
    expect(parked[0]?.entries.map((e) => [e.key, e.value])).toEqual([
      ['a', 'A1'],
      ['a', 'A2'],
      ['b', 'B'],
    ]);
    const dead = await wb.deadLetters();
    expect(dead.map((d) => [d.key, d.op, d.value, d.reason, d.attempts])).toEqual([
      ['a', 'set', 'A1', 'writer', 3],
      ['a', 'set', 'A2', 'writer', 3],
      ['b', 'set', 'B', 'writer', 3],
    ]);
    expect(dead[0]?.error).toBe('constraint violation');
    expect(await wb.depth()).toBe(0);
  });

  it('parks an unreadable journal entry as a dead letter and writes the rest', async () => {
    const redis = client();
    const sink = recorder<string>();
    const wb = make({ redis, namespace: 'corrupt', writer: sink.writer, ...fast });
    const parked: WriteBehindDeadLetterEvent<string>[] = [];
    wb.on('dead-letter', (e) => parked.push(e));
    await wb.write('good', 'ok');
    // Not written by WriteBehind: a value without an envelope.
    await redis.client.xadd(
      redis.keys('corrupt').key('wb', 'journal'),
      '*',
      'k',
      'bad',
      'o',
      's',
      'v',
      'junk',
      't',
      '1',
    );
    await wb.start();
    await wb.flush().catch(() => {});
    expect(sink.entries().map((e) => e.key)).toEqual(['good']);
    expect(parked.map((e) => [e.reason, e.entries.map((x) => x.key)])).toEqual([['decode', ['bad']]]);
    expect(await wb.depth()).toBe(0);
    expect(await wb.deadLetterDepth()).toBe(1);
  });

  it('refuses a write rather than dropping one when the journal is at maxLength', async () => {
    const redis = client();
    const wb = make({ redis, namespace: 'bounded', writer: recorder<number>().writer, maxLength: 3, ...fast });
    for (let i = 0; i < 3; i++) await wb.write(`k${i}`, i);
    const refused = await wb.write('k3', 3).catch((e: unknown) => e);
    expect(StratacacheError.isInstance(refused) && refused.code).toBe('E_WRITE');
    expect((refused as StratacacheError).context).toMatchObject({ option: 'maxLength', depth: 3 });
    expect(await wb.depth()).toBe(3);
  });
});

describe('write-behind: several workers', () => {
  it('writes every entry exactly once across two workers in the same group', async () => {
    const redis = client();
    const namespace = 'shared';
    const seen = new Map<string, number>();
    const perWorker = [0, 0];
    const writerOf = (index: number) => async (batch: WriteBehindEntry<number>[]) => {
      perWorker[index] = (perWorker[index] ?? 0) + batch.length;
      for (const e of batch) seen.set(e.key, (seen.get(e.key) ?? 0) + 1);
      // A little slower than a poll, so the other worker gets batches too.
      await new Promise((r) => setTimeout(r, 5));
    };
    const a = make({ redis, namespace, writer: writerOf(0), batchSize: 10, ...fast });
    const b = make({ redis, namespace, writer: writerOf(1), batchSize: 10, ...fast });
    expect(a.consumer).not.toBe(b.consumer);
    await a.start();
    await b.start();
    const n = 400;
    await Promise.all(Array.from({ length: n }, (_, i) => a.write(`k${i}`, i)));
    await Promise.all([a.flush(), b.flush()]);
    expect(seen.size).toBe(n);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect((perWorker[0] ?? 0) + (perWorker[1] ?? 0)).toBe(n);
    expect(await a.depth()).toBe(0);
  });

  it('lets another worker claim and write the entries of a worker whose writer hangs', async () => {
    const redis = client();
    const namespace = 'hang';
    let release: () => void = () => {};
    let stuckOn = 0;
    const a = make<string>({
      redis,
      namespace,
      ...fast,
      writer: (batch) => {
        stuckOn = batch.length;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    for (let i = 0; i < 10; i++) await a.write(`k${i}`, `v${i}`);
    await a.start();
    await eventually(() => stuckOn === 10);

    const sink = recorder<string>();
    const b = make({ redis, namespace, writer: sink.writer, claimIdle: 200, ...fast });
    await b.start();
    await b.flush({ timeout: '15s' });
    expect(sink.entries().map((e) => [e.key, e.value])).toEqual(
      Array.from({ length: 10 }, (_, i) => [`k${i}`, `v${i}`]),
    );
    expect(await b.depth()).toBe(0);
    release();
  });
});

describe('write-behind: crash of the process', () => {
  it('loses nothing acknowledged when the process is killed with SIGKILL mid-flush', async () => {
    const redis = client();
    const namespace = 'crash';
    const sink = unique('sink');
    const n = 100;
    const child = startWriterProcess('journal', {
      url: testRedisUrl(),
      prefix: redis.options.prefix,
      namespace,
      sink,
      n,
      delayMs: 300,
      batchSize: 20,
    });
    const written = await child.next((e) => e.written !== undefined || e.error !== undefined);
    expect(written).toMatchObject({ written: n });
    await child.next((e) => e.flushing !== undefined && e.afterWritten === true);
    child.child.kill('SIGKILL');
    await new Promise<void>((resolve) => {
      if (child.child.exitCode !== null || child.child.signalCode !== null) resolve();
      else child.child.once('exit', () => resolve());
    });
    expect(child.child.signalCode).toBe('SIGKILL');

    // Killed mid-flush: part of the journal is unflushed, and a batch is pending on the dead worker.
    const journal = redis.keys(namespace).key('wb', 'journal');
    expect(await redis.client.xlen(journal)).toBeGreaterThan(0);
    const [pendingOnDead] = (await redis.client.xpending(journal, 'writers')) as [number];
    expect(pendingOnDead).toBeGreaterThan(0);

    const recovery = make({ redis, namespace, writer: sinkWriter(redis, sink), claimIdle: 200, ...fast });
    await recovery.start();
    await recovery.flush({ timeout: '15s' });
    const values = await readSink(redis, sink);
    expect(values).toEqual(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v-${i}`])));
    expect(await recovery.depth()).toBe(0);
    expect(((await redis.client.xpending(journal, 'writers')) as [number])[0]).toBe(0);
  });
});

describe('write-behind: Redis down', () => {
  it('rejects a write with a connection error, soon, and never acknowledges it', async () => {
    const s = await server();
    const redis = createRedis({ url: s.url, env: {}, commandTimeout: '500ms', connectTimeout: '500ms' });
    const sink = recorder<string>();
    const wb = make({ redis, namespace: 'down', writer: sink.writer, ...fast });
    try {
      await wb.start();
      await wb.write('before', 'ok');
      await wb.flush();
      await s.stop();
      const begun = Date.now();
      const failure = await wb.write('after', 'lost?').then(
        () => 'acknowledged',
        (e: unknown) => e,
      );
      expect(failure).not.toBe('acknowledged');
      expect(StratacacheError.isInstance(failure) && failure.code).toMatch(/^E_(CONNECTION|TIMEOUT|CIRCUIT_OPEN)$/);
      // Generous: the point is that it fails instead of hanging.
      expect(Date.now() - begun).toBeLessThan(10_000);
      await expect(wb.flush()).rejects.toSatisfy((e: unknown) => StratacacheError.isInstance(e));
      expect(sink.entries().map((e) => e.key)).toEqual(['before']);
    } finally {
      await wb.close().catch(() => {});
      await redis.close();
    }
  });

  it('rejects start() with a ConnectionError when Redis is unreachable', async () => {
    const s = await server();
    await s.stop();
    const redis = createRedis({ url: s.url, env: {}, commandTimeout: '500ms', connectTimeout: '500ms' });
    try {
      const wb = make({ redis, namespace: 'nowhere', writer: recorder<string>().writer });
      await expect(wb.start()).rejects.toBeInstanceOf(ConnectionError);
    } finally {
      await redis.close();
    }
  });
});

describe('write-behind: options', () => {
  const redis = () => client();
  const writer = async () => {};
  const cases: [string, Record<string, unknown>][] = [
    ['redis', { redis: undefined }],
    ['namespace', { namespace: '' }],
    ['namespace', { namespace: 'has space' }],
    ['writer', { writer: 'not a function' }],
    ['batchSize', { batchSize: 0 }],
    ['batchSize', { batchSize: 1.5 }],
    ['flushInterval', { flushInterval: 'soon' }],
    ['maxAttempts', { maxAttempts: 0 }],
    ['backoff.initial', { backoff: { initial: -1 } }],
    ['backoff.max', { backoff: { initial: '2s', max: '1s' } }],
    ['claimIdle', { claimIdle: 0 }],
    ['group', { group: '' }],
    ['consumer', { consumer: 42 }],
    ['maxLength', { maxLength: -1 }],
    ['serializer', { serializer: {} }],
  ];
  for (const [option, bad] of cases) {
    it(`throws a ConfigError naming ${option} for ${JSON.stringify(bad)}`, () => {
      const options = { redis: redis(), namespace: 'opts', writer, ...bad } as WriteBehindOptions<unknown>;
      let thrown: unknown;
      try {
        createWriteBehind(options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).context.option).toBe(option);
      expect((thrown as Error).message).toContain(option);
    });
  }

  it('rejects a write with an empty key', async () => {
    const wb = make({ redis: client(), namespace: 'opts', writer });
    await expect(wb.write('', 'x')).rejects.toMatchObject({ code: 'E_KEY' });
  });
});
