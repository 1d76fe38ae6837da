/**
 * `stratacache invalidate --namespace <cache> --tag t | --prefix p [--dry-run]`:
 * invalidates Cache entries as the application's own Cache would, through a
 * Cache of that namespace and the invalidation bus, so every instance's memory
 * tier drops them too and loads in flight cannot write old values back.
 */
import type { StrataRedis } from '@stratacache/core-client';
import { escapeGlob } from '@stratacache/core-client';
import { createInvalidationBus } from '@stratacache/invalidation';
import { createCache } from '@stratacache/patterns';
import { readEntry } from '../entry.js';

/** What `invalidate` did (or would do, with `dryRun`). */
export interface InvalidateReport {
  namespace: string;
  by: 'tag' | 'prefix';
  targets: string[];
  dryRun: boolean;
  /** Entries in Redis that carried one of the tags, or matched the prefix, when the command started. */
  matched: number;
  /** Entries the prefix delete removed (prefix only, not with --dry-run). */
  deleted?: number;
}

/** Invalidates by tags or by prefix in cache namespace `namespace`. */
export async function invalidate(
  redis: StrataRedis,
  options: { namespace: string; tags: string[]; prefix?: string; dryRun: boolean; tagMode?: 'eager' | 'lazy' },
): Promise<InvalidateReport> {
  const keys = redis.keys(options.namespace);
  const by = options.prefix !== undefined ? 'prefix' : 'tag';
  const matched =
    by === 'prefix'
      ? await redis.unlinkMatching(`${escapeGlob(keys.key('e', options.prefix as string))}*`, { dryRun: true })
      : await countTagged(redis, keys.under('e'), new Set(options.tags));
  const report: InvalidateReport = {
    namespace: options.namespace,
    by,
    targets: by === 'prefix' ? [options.prefix as string] : options.tags,
    dryRun: options.dryRun,
    matched,
  };
  if (options.dryRun) return report;
  const bus = createInvalidationBus(redis);
  await bus.start();
  const cache = createCache({
    redis,
    bus,
    namespace: options.namespace,
    memory: false,
    ...(options.tagMode ? { tags: options.tagMode } : {}),
  });
  try {
    if (by === 'prefix') report.deleted = await cache.deleteByPrefix(options.prefix as string);
    else await cache.deleteByTag(options.tags);
  } finally {
    cache.close();
    await bus.stop();
  }
  return report;
}

/** How many entries under `pattern` carry one of `tags` (their headers list their tags). */
async function countTagged(redis: StrataRedis, pattern: string, tags: Set<string>): Promise<number> {
  let count = 0;
  for await (const batch of redis.scan(pattern)) {
    const values = await redis.getMany(batch);
    for (const value of values) {
      const entry = value ? readEntry(value) : undefined;
      if (entry?.header.kind === 'value' && entry.header.tags.some((tag) => tags.has(tag))) count++;
    }
  }
  return count;
}
