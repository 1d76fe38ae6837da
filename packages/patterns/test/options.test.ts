/**
 * Every option, every kind of wrong value: a ConfigError (E_CONFIG) whose
 * context names the option. Nothing bad is accepted silently.
 */
import { ConfigError } from '@stratacache/core-client';
import { describe, expect, it } from 'vitest';
import { type CacheOptions, createCache, type EntryOptions } from '../src/index.js';
import { client } from './helpers.js';

const redis = client();

function configError(fn: () => unknown, option: string) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('E_CONFIG');
    expect((error as ConfigError).context.option ?? (error as Error).message).toContain(option);
    return;
  }
  throw new Error(`accepted a bad ${option}`);
}

const cacheCases: [string, Partial<Record<keyof CacheOptions, unknown>>][] = [
  ['memory', { memory: 'big' }],
  ['memory.maxEntries', { memory: { maxEntries: 0 } }],
  ['memory.maxEntries', { memory: { maxEntries: -5 } }],
  ['memory.maxEntries', { memory: { maxEntries: Number.NaN } }],
  ['memory.maxEntries', { memory: { maxEntries: 1.5 } }],
  ['memory.maxEntries', { memory: { maxEntries: '10' } }],
  ['memory.maxBytes', { memory: { maxBytes: 0 } }],
  ['memory.ttl', { memory: { ttl: -1 } }],
  ['memory.ttl', { memory: { ttl: 0 } }],
  ['memory.ttl', { memory: { ttl: '10 parsecs' } }],
  ['memory.clone', { memory: { clone: 'yes' } }],
  ['redisTier', { redisTier: 'no' }],
  ['batchReads', { batchReads: 'yes' }],
  ['redis', { redis: {} }],
  ['serializer', { serializer: { name: 'x' } }],
  ['bus', { bus: {} }],
  ['lock', { lock: {} }],
  ['loader', { loader: 'fn' }],
  ['tags', { tags: 'sometimes' }],
  ['tags', { tags: true }],
  ['namespace', { namespace: '' }],
  ['namespace', { namespace: 'a:b' }],
  ['namespace', { namespace: 7 }],
  ['tombstoneTtl', { tombstoneTtl: 0 }],
  ['tombstoneTtl', { tombstoneTtl: -1 }],
  ['tombstoneTtl', { tombstoneTtl: Number.NaN }],
  ['tombstoneTtl', { tombstoneTtl: '10' }],
  ['tombstoneTtl', { tombstoneTtl: 'soon' }],
];

const entryCases: [string, Partial<Record<keyof EntryOptions, unknown>>][] = [
  ['ttl', { ttl: 0 }],
  ['ttl', { ttl: -1 }],
  ['ttl', { ttl: Number.NaN }],
  ['ttl', { ttl: '5 minutes please' }],
  ['ttl', { ttl: {} }],
  ['jitter', { jitter: -0.1 }],
  ['jitter', { jitter: 1 }],
  ['jitter', { jitter: Number.NaN }],
  ['jitter', { jitter: '0.1' }],
  ['grace', { grace: -1 }],
  ['grace', { grace: true }],
  ['graceBackoff', { graceBackoff: -5 }],
  ['tags', { tags: 'a' }],
  ['tags', { tags: [''] }],
  ['tags', { tags: ['\uD800'] }],
  ['tags', { tags: Array.from({ length: 256 }, (_, i) => `t${i}`) }],
  ['timeout', { timeout: 5 }],
  ['timeout.soft', { timeout: { soft: 0 } }],
  ['timeout.hard', { timeout: { hard: -1 } }],
  ['refreshAhead', { refreshAhead: 1 }],
  ['refreshAhead', { refreshAhead: -0.5 }],
  ['refreshAhead', { refreshAhead: Number.NaN }],
  ['cacheUndefined', { cacheUndefined: 'yes' }],
  ['cacheUndefined.ttl', { cacheUndefined: { ttl: 0 } }],
  ['cacheErrors', { cacheErrors: true }],
  ['cacheErrors.ttl', { cacheErrors: { ttl: -1 } }],
  ['lockWait', { lockWait: -1 }],
  ['lockTtl', { lockTtl: 0 }],
  ['throwErrors', { throwErrors: 'true' }],
  ['consistency', { consistency: 'strong' }],
];

describe('createCache options', () => {
  it.each(cacheCases)('%s: %j is refused', (option, bad) => {
    configError(() => createCache({ redis, ...(bad as CacheOptions) }), option);
  });
  it.each(entryCases)('defaults.%s: %j is refused', (option, bad) => {
    configError(() => createCache({ redis, defaults: bad as EntryOptions }), option);
  });
});

describe('per-call entry options', () => {
  const c = createCache<string>({ redis, memory: false });
  it.each(entryCases)('%s: %j is refused by set() before anything is written', async (option, bad) => {
    await expect(c.set('k', 'v', bad as EntryOptions)).rejects.toBeInstanceOf(ConfigError);
    configError(() => c.getOrSet('k', () => 'v', bad as EntryOptions), option);
    expect(await c.get('k')).toBeUndefined();
  });
  it('version: zero, negative, NaN and non-numbers are refused', async () => {
    for (const version of [0, -1, Number.NaN, '2']) {
      await expect(c.set('k', 'v', { version: version as number })).rejects.toMatchObject({ code: 'E_CONFIG' });
    }
  });
});
