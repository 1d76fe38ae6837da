/** `stratacache locks list`: the locks held now in a coordination namespace, with TTL and fencing token. */
import type { StrataRedis } from '@stratacache/core-client';

/** One held lock. */
export interface HeldLock {
  name: string;
  /** The first characters of the holder's token (enough to tell holders apart, not to release it). */
  holder: string;
  ttlMs: number;
  /** The newest fencing token handed out for this name. */
  fence: number | null;
}

/** The locks of `namespace` (coordination's default is `coord`), sorted by name. */
export async function listLocks(redis: StrataRedis, namespace: string): Promise<HeldLock[]> {
  const keys = redis.keys(namespace);
  const held: HeldLock[] = [];
  for await (const batch of redis.scan(keys.under('lock'))) {
    const rows = await redis.run('locks', (c) =>
      Promise.all(
        batch.map(async (key) => {
          const name = lockName(key);
          const [token, ttlMs, fence] = await Promise.all([
            c.get(key),
            c.pttl(key),
            name === undefined ? null : c.get(keys.key('lock-fence', keys.tag(name))),
          ]);
          return { key, name, token, ttlMs, fence };
        }),
      ),
    );
    for (const row of rows) {
      if (row.token === null || row.name === undefined) continue; // released between SCAN and GET
      held.push({
        name: row.name,
        holder: `${row.token.slice(0, 8)}...`,
        ttlMs: row.ttlMs,
        fence: row.fence === null ? null : Number(row.fence),
      });
    }
  }
  return held.sort((a, b) => a.name.localeCompare(b.name));
}

/** The lock name inside `...:lock:{name}` (the key builder percent-encodes `%`, `:`, `{`, `}`). */
function lockName(key: string): string | undefined {
  const match = /:lock:\{(.*)\}$/.exec(key);
  return match ? decodeURIComponent(match[1] as string) : undefined;
}
