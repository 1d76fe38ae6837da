/**
 * Deleting from the console without reopening the stale-set race. A Cache
 * load reads its key, calls its source, then writes back only if the key's
 * header is still the one it saw (patterns' write-back guard). An UNLINK can
 * put the key back into the state a load saw (empty: a load began on a miss,
 * a write-through set a new value, the console unlinked it), and the load
 * then writes a value read from the source before the delete. So a Cache
 * entry (a key of kind `e` whose value starts with the entry magic) is
 * replaced by a tombstone, as patterns' own `delete` does; any other key is
 * unlinked as before. Every instance is told over the bus afterwards.
 */
import { escapeGlob, type StrataRedis } from '@stratacache/core-client';
import type { AdminContext } from './context.js';
import { ENTRY_KIND_TOMBSTONE, ENTRY_MAGIC, encodeTombstone } from './entry-header.js';
import { invalidatorFor } from './invalidators.js';
import type { KeyParts } from './key-id.js';

/** The kind of patterns' Cache entry keys (`{prefix}:{namespace}:e:{key}`). */
export const ENTRY_KEY_KIND = 'e';

/** What happened to one key. */
export type DeleteOutcome =
  /** A Cache entry, now a tombstone. */
  | 'tombstoned'
  /** A tombstone already (a delete before this one); its lifetime starts again. */
  | 'was-tombstone'
  /** Any other key, unlinked. */
  | 'unlinked'
  /** Nothing was there. */
  | 'missing';

/** Counts of a delete by prefix. */
export type DeleteCounts = Record<DeleteOutcome, number>;

function isWrongType(error: unknown): boolean {
  for (let e = error as { message?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.message === 'string' && e.message.includes('WRONGTYPE')) return true;
  }
  return false;
}

/** A tombstone as of now on the Redis clock (its upper bound: no load stamped later can predate it). */
async function tombstoneNow(redis: StrataRedis, lifetimeMs: number): Promise<Buffer> {
  if (!redis.clock.synced) await redis.clock.ready();
  return encodeTombstone(redis.clock.upper(), lifetimeMs);
}

/**
 * Replaces an existing Cache entry `key` with `tombstone` (SET XX GET: one
 * atomic step, so nothing written between a check and the write is lost
 * unseen); a string that turns out not to be an entry, or a key of another
 * type (which SET refuses), is unlinked instead.
 */
async function tombstoneOrUnlink(
  redis: StrataRedis,
  key: Buffer | string,
  tombstone: Buffer,
  lifetimeMs: number,
): Promise<DeleteOutcome> {
  let old: Buffer | null;
  try {
    old = (await redis.run('set', (c) =>
      c.callBuffer('SET', key, tombstone, 'PX', String(lifetimeMs), 'XX', 'GET'),
    )) as Buffer | null;
  } catch (error) {
    if (!isWrongType(error)) throw error;
    return (await redis.run('unlink', (c) => c.unlink(key))) > 0 ? 'unlinked' : 'missing';
  }
  if (old === null) return 'missing';
  if (old[0] === ENTRY_MAGIC) return old[1] === ENTRY_KIND_TOMBSTONE ? 'was-tombstone' : 'tombstoned';
  // Another writer's string under kind `e`: not a Cache entry, so it is deleted, not tombstoned.
  await redis.run('unlink', (c) => c.unlink(key));
  return 'unlinked';
}

/**
 * Deletes one key: a Cache entry becomes a tombstone, a key of a namespace
 * goes through the invalidator (UNLINK), any other key is unlinked; then the
 * bus tells every instance (for keys of a namespace).
 */
export async function deleteOneKey(
  ctx: AdminContext,
  key: Buffer,
  parts: KeyParts | undefined,
): Promise<DeleteOutcome> {
  const { redis } = ctx;
  if (!parts) return (await redis.run('unlink', (c) => c.unlink(key))) > 0 ? 'unlinked' : 'missing';
  if (parts.kind !== ENTRY_KEY_KIND) {
    return (await invalidatorFor(ctx, parts.namespace).deleteKeys([key.toString('utf8')])) > 0 ? 'unlinked' : 'missing';
  }
  const outcome = await tombstoneOrUnlink(
    redis,
    key,
    await tombstoneNow(redis, ctx.options.tombstoneMs),
    ctx.options.tombstoneMs,
  );
  // As the invalidator's deleteKeys would: memory tiers drop their copies.
  await ctx.bus.publish('dk', parts.namespace, [key.toString('utf8')]);
  return outcome;
}

/**
 * Deletes every key of `namespace` starting with `prefix` (after the
 * namespace): first the namespace's invalidation marker is written (as the
 * invalidator's own prefix delete does, so a load that began before and finds
 * its key still empty is refused too), then each key SCAN finds on every
 * master is tombstoned (Cache entries) or unlinked, then the bus tells every
 * instance.
 */
export async function deleteByPrefix(ctx: AdminContext, namespace: string, prefix: string): Promise<DeleteCounts> {
  const { redis } = ctx;
  const inv = invalidatorFor(ctx, namespace);
  const lifetimeMs = ctx.options.tombstoneMs;
  if (!redis.clock.synced) await redis.clock.ready();
  const at = redis.clock.upper();
  const tombstone = encodeTombstone(at, lifetimeMs);
  await redis.run('set', (c) => c.set(inv.namespaceTimeKey(), String(at), 'PX', inv.options.markerTtlMs));
  const head = `${redis.options.prefix}:${namespace}:`;
  const counts: DeleteCounts = { tombstoned: 0, 'was-tombstone': 0, unlinked: 0, missing: 0 };
  for await (const batch of redis.scan(`${escapeGlob(`${head}${prefix}`)}*`, { count: 1000 })) {
    const outcomes = await Promise.all(
      batch.map(async (key) => {
        const kind = key.slice(head.length).split(':', 1)[0];
        if (kind === ENTRY_KEY_KIND) return tombstoneOrUnlink(redis, key, tombstone, lifetimeMs);
        return (await redis.run('unlink', (c) => c.unlink(key))) > 0 ? 'unlinked' : 'missing';
      }),
    );
    for (const outcome of outcomes) counts[outcome]++;
  }
  await ctx.bus.publish('dp', namespace, [prefix], at);
  return counts;
}
