import { ConfigError } from '@stratacache/core-client';
import { eventually } from '@stratacache/test-utils';
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../src/index.js';
import { findCycle } from '../src/registry.js';
import { client, unique } from './helpers.js';

describe('registry', () => {
  it('50 parallel registrations from 5 clients: a consistent list with distinct versions', async () => {
    const prefix = unique('reg');
    const name = unique('ingesters');
    const registries = Array.from({ length: 5 }, () => createRegistry(client({ prefix }), { name }));
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (registries[i % 5] as (typeof registries)[0]).register('ingester', `feed-${i}`, { url: `https://feed/${i}` }),
      ),
    );
    const listed = await (registries[0] as (typeof registries)[0]).list('ingester');
    expect(listed).toHaveLength(50);
    expect(new Set(listed.map((e) => e.version)).size).toBe(50);
    expect(Math.max(...listed.map((e) => e.version))).toBe(50);
    expect(listed.map((e) => e.name)).toEqual(Array.from({ length: 50 }, (_, i) => `feed-${i}`).sort());
  });

  it('refuses a dependency cycle and names it; resolves dependency order', async () => {
    const registry = createRegistry(client(), { name: unique('jobs') });
    await registry.register('job', 'extract', { cmd: 'e' });
    await registry.register('job', 'transform', { cmd: 't' }, { dependsOn: ['extract'] });
    await registry.register('job', 'load', { cmd: 'l' }, { dependsOn: ['transform'] });
    const attempt = registry.register('job', 'extract', { cmd: 'e2' }, { dependsOn: ['load'] });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(registry.register('job', 'extract', { cmd: 'e2' }, { dependsOn: ['load'] })).rejects.toThrowError(
      /job:extract -> job:load -> job:transform -> job:extract/,
    );
    expect((await registry.get('job', 'extract'))?.config).toEqual({ cmd: 'e' }); // unchanged
    expect((await registry.resolveOrder()).map((e) => e.name)).toEqual(['extract', 'transform', 'load']);
    await expect(registry.unregister('job', 'extract')).rejects.toThrowError(/job:transform depend on it/);
    expect(await registry.unregister('job', 'load')).toBe(true);
    expect(await registry.unregister('job', 'load')).toBe(false);
    expect(findCycle(new Map([['a', { dependsOn: ['a'] }]]))).toEqual(['a', 'a']);
  });

  it('lets only one of two racing registrations that would form a cycle through', async () => {
    for (let round = 0; round < 5; round++) {
      const prefix = unique('race');
      const name = unique('reg');
      const [r1, r2] = [createRegistry(client({ prefix }), { name }), createRegistry(client({ prefix }), { name })];
      await r1.register('job', 'a', {});
      await r1.register('job', 'b', {});
      const outcomes = await Promise.allSettled([
        r1.register('job', 'a', {}, { dependsOn: ['b'] }),
        r2.register('job', 'b', {}, { dependsOn: ['a'] }),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1);
      await expect(r1.resolveOrder()).resolves.toHaveLength(2); // no cycle got in
    }
  });

  it('hides private fields from other scopes', async () => {
    const registry = createRegistry(client(), { name: unique('feeds') });
    await registry.register(
      'feed',
      'prices',
      { url: 'https://x', apiKey: 'k-123' },
      { scope: 'team-a', privateFields: ['apiKey'] },
    );
    expect((await registry.get('feed', 'prices', { scope: 'team-a' }))?.config).toEqual({
      url: 'https://x',
      apiKey: 'k-123',
    });
    expect((await registry.get('feed', 'prices', { scope: 'team-b' }))?.config).toEqual({ url: 'https://x' });
    expect((await registry.list('feed'))[0]?.config).toEqual({ url: 'https://x' });
    await expect(registry.register('feed', 'bad', { url: 'x' }, { privateFields: ['missing'] })).rejects.toThrowError(
      /privateFields/,
    );
  });

  it('notifies every instance of changes, for hot reload', async () => {
    const prefix = unique('hot');
    const name = unique('reg');
    const writer = createRegistry(client({ prefix }), { name });
    const reader = createRegistry(client({ prefix }), { name });
    const changes: unknown[] = [];
    await reader.onChange((c) => changes.push(c));
    await writer.register('feed', 'a', { v: 1 });
    await writer.unregister('feed', 'a');
    await eventually(() => changes.length === 2);
    expect(changes).toEqual([
      { type: 'registered', kind: 'feed', name: 'a', version: 1 },
      { type: 'unregistered', kind: 'feed', name: 'a', version: 2 },
    ]);
  });
});
