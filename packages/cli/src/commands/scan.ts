/** `stratacache scan <namespace> [--kind k]`: the keys of a namespace with their type and TTL. */
import type { StrataRedis } from '@stratacache/core-client';

/** One key found. */
export interface ScannedKey {
  key: string;
  type: string;
  ttlMs: number;
}

/**
 * The keys of `namespace` (`{prefix}:{namespace}:*`, not its child namespaces), or of one
 * `kind` (`e` for Cache entries), at most `limit`, with TYPE and PTTL read for each.
 */
export async function scan(
  redis: StrataRedis,
  namespace: string,
  options: { kind?: string; limit: number },
): Promise<{ keys: ScannedKey[]; truncated: boolean }> {
  const keys = redis.keys(namespace);
  const pattern = options.kind ? keys.under(options.kind) : keys.all();
  const found: ScannedKey[] = [];
  for await (const batch of redis.scan(pattern)) {
    const wanted = batch.slice(0, options.limit - found.length);
    // One command per key, all in flight: on Cluster each goes to its own node (a pipeline could not).
    const details = await redis.run('scan', (c) =>
      Promise.all(wanted.map(async (key) => [await c.type(key), await c.pttl(key)] as const)),
    );
    wanted.forEach((key, i) => {
      const [type, ttlMs] = details[i] ?? ['none', -2];
      found.push({ key, type, ttlMs });
    });
    if (found.length >= options.limit) return { keys: found, truncated: true };
  }
  return { keys: found.sort((a, b) => a.key.localeCompare(b.key)), truncated: false };
}
