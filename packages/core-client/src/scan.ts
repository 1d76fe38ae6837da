/**
 * SCAN over every master (one server, or each master of a Cluster) and
 * UNLINK of what it finds, in pipelined batches. KEYS is never used: it
 * blocks the server for as long as it walks the keyspace.
 */
import type { Cluster, Redis } from 'ioredis';
import { sendWithin, type TimeBudget } from './budget.js';
import { ConnectionError } from './errors.js';

/** Options of {@link scanKeys}. */
export interface ScanOptions {
  /** COUNT hint per SCAN call: how much work the server does per round trip. @default 500 */
  count?: number;
  /** Only keys of this type (`string`, `hash`, `set`, ...). */
  type?: string;
}

/**
 * The nodes to scan: the client itself, or every Cluster master. A Cluster
 * that knows no master yet (not ready) is an error, never an empty result.
 */
export function scanTargets(client: Redis | Cluster): Redis[] {
  if (!(client as Cluster).isCluster) return [client as Redis];
  const masters = (client as Cluster).nodes('master');
  if (masters.length === 0) {
    throw new ConnectionError(
      'The Redis Cluster is not ready (no master known yet); a scan now would see nothing. Retry once it is ready.',
    );
  }
  return masters;
}

/**
 * Yields batches of key names matching `pattern` (already escaped by the key
 * builder) from every master. A key may appear twice if it moves during the
 * scan (SCAN's own guarantee); callers that count should tolerate that.
 */
export async function* scanKeys(
  client: Redis | Cluster,
  pattern: string,
  options: ScanOptions = {},
): AsyncGenerator<string[], void, undefined> {
  for (const node of scanTargets(client)) yield* scanNode(node, pattern, options);
}

/** Batches of keys matching `pattern` on one node. */
async function* scanNode(
  node: Redis,
  pattern: string,
  options: ScanOptions,
  budget?: TimeBudget,
): AsyncGenerator<string[], void, undefined> {
  const count = options.count ?? 500;
  let cursor = '0';
  do {
    const args: (string | number)[] = [cursor, 'MATCH', pattern, 'COUNT', count];
    if (options.type) args.push('TYPE', options.type);
    const [next, keys] = (await sendWithin(budget, () =>
      node.scan(...(args as [string, 'MATCH', string, 'COUNT', number])),
    )) as [string, string[]];
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}

/** Options of {@link unlinkMatching}. */
export interface UnlinkOptions extends ScanOptions {
  /** Count what would be removed without removing it. @default false */
  dryRun?: boolean;
}

/**
 * Removes every key matching `pattern` with UNLINK (memory is freed in the
 * background), one pipeline per SCAN batch, and returns how many were removed
 * (or would be, with `dryRun`). On Cluster each key is unlinked on its own
 * master, one key per command, so no CROSSSLOT error can arise.
 */
export async function unlinkMatching(
  client: Redis | Cluster,
  pattern: string,
  options: UnlinkOptions = {},
  budget?: TimeBudget,
): Promise<number> {
  let removed = 0;
  for (const node of scanTargets(client)) {
    for await (const keys of scanNode(node, pattern, options, budget)) {
      if (options.dryRun) {
        removed += keys.length;
        continue;
      }
      const pipeline = node.pipeline();
      for (const key of keys) pipeline.unlink(key);
      const results = (await sendWithin(budget, () => pipeline.exec())) ?? [];
      for (const [error, value] of results) {
        if (error) throw error;
        removed += Number(value);
      }
    }
  }
  return removed;
}
