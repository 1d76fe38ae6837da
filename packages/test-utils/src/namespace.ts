/**
 * A key namespace per test, and a cleanup that deletes only that namespace.
 * Tests share one Redis (and may share it with other users through REDIS_URL),
 * so no test may FLUSHDB: each writes under its own namespace and removes it.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Escapes the glob characters of SCAN MATCH (`* ? [ ] \ ^ -`... ) in `text`. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\^-]/g, (c) => `\\${c}`);
}

/**
 * A namespace no other test uses: `t.<label>.<12 hex chars>`. The label is
 * reduced to `[a-z0-9]` so it needs no escaping and holds no hash tag.
 */
export function uniqueNamespace(label = 'test'): string {
  const clean =
    label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '')
      .slice(0, 24) || 'test';
  return `t.${clean}.${randomBytes(6).toString('hex')}`;
}

/**
 * Deletes every key equal to `namespace` or starting with `namespace:` with
 * SCAN + UNLINK in batches (never KEYS), and returns how many were removed.
 * Standalone servers only; the Cluster variant scans every master.
 */
export async function cleanupNamespace(redis: Redis, namespace: string, count = 500): Promise<number> {
  let removed = 0;
  for (const match of [`${escapeGlob(namespace)}:*`, escapeGlob(namespace)]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  }
  return removed;
}
