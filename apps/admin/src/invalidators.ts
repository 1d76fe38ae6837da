/**
 * Invalidators of `@stratacache/invalidation`, one per cache namespace the
 * console acts on, all on the console's bus, so a delete or a tag
 * invalidation reaches every running instance's memory tier, not only Redis.
 * Eager tags on standalone and Sentinel (a tag delete then also unlinks the
 * members of an eager tag set, and for a lazy namespace there is none), lazy
 * on Cluster (eager is refused there).
 */
import { createInvalidator, type Invalidator } from '@stratacache/invalidation';
import type { AdminContext } from './context.js';

const MAX = 200;
const cache = new WeakMap<AdminContext, Map<string, Invalidator>>();

/** The invalidator of `namespace` (created on first use, at most 200 kept). */
export function invalidatorFor(ctx: AdminContext, namespace: string): Invalidator {
  let map = cache.get(ctx);
  if (!map) {
    const created = new Map<string, Invalidator>();
    map = created;
    cache.set(ctx, created);
    ctx.invalidatorsClose = () => {
      for (const inv of created.values()) inv.close();
      created.clear();
    };
  }
  let inv = map.get(namespace);
  if (!inv) {
    inv = createInvalidator(ctx.redis, {
      namespace,
      bus: ctx.bus,
      tags: ctx.redis.mode === 'cluster' ? 'lazy' : 'eager',
    });
    map.set(namespace, inv);
    if (map.size > MAX) {
      const [oldest, first] = map.entries().next().value as [string, Invalidator];
      first.close();
      map.delete(oldest);
    }
  }
  return inv;
}
