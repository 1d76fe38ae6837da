/**
 * SCAN for the console: a page of keys with a cursor the browser carries
 * (`<node>:<cursor>`, one standalone server or each Cluster master in turn),
 * and a bounded walk for the discovery views. KEYS is never sent. Keys are
 * read as Buffers, since key names are arbitrary bytes.
 */
import { type StrataRedis, scanTargets } from '@stratacache/core-client';
import type { Redis } from 'ioredis';

/** The masters to scan, in a stable order (a Cluster lists its nodes in no fixed order). */
export function scanNodes(redis: StrataRedis): Redis[] {
  const nodes = scanTargets(redis.client);
  const name = (n: Redis) => n.options.path ?? `${n.options.host}:${n.options.port}`;
  return [...nodes].sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
}

/** One key of a page, with the node it lives on. */
export interface ScannedKey {
  key: Buffer;
  node: number;
}

/** A page of keys and the cursor of the next page (`null` at the end). */
export interface ScanPage {
  keys: ScannedKey[];
  next: string | null;
  /** How many masters were scanned (1 unless Cluster). */
  nodes: number;
}

/** Parses `<node>:<cursor>`; throws `RangeError` on anything else (the route answers 400). */
export function parseCursor(text: string | undefined): { node: number; cursor: string } {
  if (text === undefined || text === '') return { node: 0, cursor: '0' };
  const match = /^(\d{1,4}):(\d{1,20})$/.exec(text);
  if (!match) throw new RangeError('cursor must look like <node>:<number>');
  return { node: Number(match[1]), cursor: match[2] as string };
}

/**
 * Reads SCAN calls from `cursor` until `pageSize` keys were found, the
 * keyspace ends, or `maxCalls` calls were made (so one page costs a bounded
 * amount of work however sparse the pattern is).
 */
export async function scanPage(
  redis: StrataRedis,
  pattern: string,
  options: { cursor?: string; pageSize: number; type?: string; maxCalls?: number; count?: number },
): Promise<ScanPage> {
  const nodes = scanNodes(redis);
  let { node, cursor } = parseCursor(options.cursor);
  const keys: ScannedKey[] = [];
  let calls = 0;
  const maxCalls = options.maxCalls ?? 50;
  while (node < nodes.length && keys.length < options.pageSize && calls < maxCalls) {
    const target = nodes[node] as Redis;
    const args: (string | number)[] = [cursor, 'MATCH', pattern, 'COUNT', options.count ?? 500];
    if (options.type) args.push('TYPE', options.type);
    const [next, found] = (await redis.run('scan', () => target.callBuffer('SCAN', ...args))) as [Buffer, Buffer[]];
    calls++;
    for (const key of found) keys.push({ key, node });
    cursor = next.toString();
    if (cursor === '0') {
      node++;
    }
  }
  const done = node >= nodes.length;
  return { keys, next: done ? null : `${node}:${cursor}`, nodes: nodes.length };
}

/** What a bounded walk found. */
export interface BoundedScan {
  keys: string[];
  /** False when the budget ran out before the keyspace did: the list is partial. */
  complete: boolean;
  /** Keys the server looked at (SCAN COUNT per call, summed). */
  examined: number;
}

/**
 * Every key matching `pattern` on every master, unless more than `budget`
 * keys would have to be examined: then what was found so far, `complete: false`.
 */
export async function scanBounded(
  redis: StrataRedis,
  pattern: string,
  options: { budget: number; type?: string; limit?: number },
): Promise<BoundedScan> {
  const count = 1000;
  const found = new Set<string>();
  let examined = 0;
  for (const node of scanNodes(redis)) {
    let cursor = '0';
    do {
      if (examined >= options.budget || found.size >= (options.limit ?? Number.POSITIVE_INFINITY)) {
        return { keys: [...found], complete: false, examined };
      }
      const args: (string | number)[] = [cursor, 'MATCH', pattern, 'COUNT', count];
      if (options.type) args.push('TYPE', options.type);
      const [next, keys] = (await redis.run('scan', () => node.call('SCAN', ...args))) as [string, string[]];
      examined += count;
      for (const key of keys) found.add(key);
      cursor = next;
    } while (cursor !== '0');
  }
  return { keys: [...found], complete: true, examined };
}
