/** Bad options throw ConfigError (E_CONFIG) naming the option; defaults resolve into a frozen object. */
import { ConfigError } from '@stratacache/core-client';
import { describe, expect, test } from 'vitest';
import {
  createWindowAggregator,
  createWindowReader,
  RedisStreamSource,
  resolveAggregatorOptions,
  type WindowSpec,
} from '../src/index.js';
import { KafkaSource } from '../src/kafka.js';
import { client } from './helpers.js';

const redis = client();
const source = new RedisStreamSource({ redis, stream: 's', group: 'g', consumer: 'c' });
const good: WindowSpec = { name: 'w', size: '1m', grace: '5s', retention: '1h' };

function configError(fn: () => unknown, option: string): void {
  try {
    fn();
  } catch (error) {
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).code).toBe('E_CONFIG');
    expect((error as ConfigError).message).toContain(option);
    return;
  }
  throw new Error(`expected a ConfigError naming ${option}`);
}

describe('options', () => {
  test('defaults', () => {
    const o = resolveAggregatorOptions({ redis, source, windows: [good] });
    expect(Object.isFrozen(o)).toBe(true);
    expect(o).toMatchObject({
      namespace: 'streams',
      queue: { max: 20_000, highWater: 16_000, lowWater: 8000 },
      batch: { max: 2000, lingerMs: 10 },
      retry: { baseDelayMs: 100, maxDelayMs: 5000 },
      idleMs: 300_000,
      publish: true,
      lagIntervalMs: 5000,
      maxLag: 100_000,
      stopTimeoutMs: 10_000,
    });
    expect(o.windows[0]).toEqual({
      name: 'w',
      sizeMs: 60_000,
      hopMs: 60_000,
      graceMs: 5000,
      retentionMs: 3_600_000,
      fields: [],
      dimensions: [],
      distinct: [],
    });
    expect(o.time({ time: '2026-01-01T00:00:00Z' }, { offset: '1', value: {} })).toBe(Date.UTC(2026, 0, 1));
    expect(o.time({ time: '1700000000000' }, { offset: '1', value: {} })).toBe(1_700_000_000_000);
  });

  test.each([
    [{ windows: [] }, 'windows'],
    [{ windows: [{ ...good, name: 'a b' }] }, 'windows[0].name'],
    [{ windows: [{ ...good, size: '-1s' }] }, 'windows[0].size'],
    [{ windows: [{ ...good, hop: '2m' }] }, 'windows[0].hop'],
    [{ windows: [{ ...good, grace: undefined }] }, 'windows[0].grace'],
    [{ windows: [{ ...good, retention: undefined }] }, 'windows[0].retention'],
    [{ windows: [{ ...good, grace: '2h' }] }, 'windows[0].retention'],
    [{ windows: [{ ...good, fields: ['a', 'a'] }] }, 'windows[0].fields'],
    [{ windows: [{ ...good, dimensions: ['x:y'] }] }, 'windows[0].dimensions'],
    [{ windows: [good, good] }, 'windows'],
    [{ queue: { max: 0 } }, 'queue.max'],
    [{ queue: { max: 10, highWater: 11 } }, 'queue.highWater'],
    [{ queue: { max: 10, highWater: 5, lowWater: 5 } }, 'queue.lowWater'],
    [{ batch: { max: 1.5 } }, 'batch.max'],
    [{ batch: { linger: 'soon' } }, 'batch.linger'],
    [{ retry: { baseDelay: '1s', maxDelay: '10ms' } }, 'retry.maxDelay'],
    [{ namespace: 'a:b' }, 'namespace'],
    [{ time: '' }, 'time'],
    [{ maxLag: -1 }, 'maxLag'],
  ] as const)('%j names %s', (patch, option) => {
    configError(() => createWindowAggregator({ redis, source, windows: [good], ...(patch as object) }), option);
  });

  test('redis, source, stream sources and the reader check their inputs', () => {
    configError(() => createWindowAggregator({ redis: {} as never, source, windows: [good] }), 'redis');
    configError(() => createWindowAggregator({ redis, source: {} as never, windows: [good] }), 'source');
    configError(() => new RedisStreamSource({ redis, stream: [], group: 'g' }), 'stream');
    configError(() => new RedisStreamSource({ redis, stream: 's', group: '' }), 'group');
    configError(() => new RedisStreamSource({ redis, stream: 's', group: 'g', readCount: 0 }), 'readCount');
    configError(() => new RedisStreamSource({ redis, stream: 's', group: 'g', block: 'never' as never }), 'block');
    configError(() => new KafkaSource({ kafka: {} as never, groupId: 'g', topics: ['t'] }), 'kafka');
    configError(() => createWindowReader({ redis, windows: [] }), 'windows');
  });

  test('the read API refuses an unknown series and a bad query', async () => {
    const reader = createWindowReader({ redis, windows: [good] });
    await expect(reader.recent('nope', { count: 1 })).rejects.toThrow(/No window series named "nope"/);
    await expect(reader.recent('w', { count: 0 })).rejects.toThrow(/count/);
    await expect(reader.recent('w', {} as never)).rejects.toThrow(/count|since/);
  });
});
