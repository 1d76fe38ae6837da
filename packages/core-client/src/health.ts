/** Health from PING and INFO: is Redis up, how fast, how full, and is it set up to keep what we need. */
import type { Cluster, Redis } from 'ioredis';
import { sendWithin, type TimeBudget } from './budget.js';

/** One server's health. */
export interface NodeHealth {
  /** `host:port` of the server. */
  node: string;
  role: string;
  version: string;
  /** Bytes used, and the maxmemory limit (0 = none). */
  usedMemory: number;
  maxMemory: number;
  /** usedMemory / maxMemory, or null without a limit. */
  memoryRatio: number | null;
  maxMemoryPolicy: string;
  connectedClients: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  /** hits / (hits + misses), or null before any lookup. */
  hitRate: number | null;
  evictedKeys: number;
}

/** A part of the report that could not be read, and why. */
export interface UnreadablePart {
  /** `host:port` of the server. */
  node: string;
  /** The command that was refused or failed (`INFO`). */
  command: string;
  /** The report fields left out because of it. */
  missing: string[];
  /** What Redis said (`NOPERM ...` for an ACL user without the command). */
  reason: string;
}

/** What `health()` returns; it never throws. */
export interface HealthReport {
  /** Redis answers PING. Parts that could not be read (`unreadable`) do not make it false. */
  ok: boolean;
  /** Round trip of one PING, in ms. */
  latencyMs: number | null;
  mode: 'standalone' | 'sentinel' | 'cluster';
  /** Servers whose INFO could be read. */
  nodes: NodeHealth[];
  /** Things to fix, such as an eviction policy that can drop locks and sessions. */
  warnings: string[];
  /**
   * What could not be read: an ACL user without INFO (`-info`, `-@dangerous`)
   * still gets `ok` and `latencyMs`, and learns here which parts are missing.
   */
  unreadable: UnreadablePart[];
  /** Why `ok` is false. */
  error?: string;
}

/** The fields of a node's health that come from INFO. */
const INFO_FIELDS = [
  'role',
  'version',
  'usedMemory',
  'maxMemory',
  'maxMemoryPolicy',
  'connectedClients',
  'hitRate',
  'evictedKeys',
];

/** Parses `INFO` text into a flat map. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

function nodeHealth(name: string, info: Record<string, string>): NodeHealth {
  const num = (key: string): number => Number(info[key] ?? 0) || 0;
  const hits = num('keyspace_hits');
  const misses = num('keyspace_misses');
  const usedMemory = num('used_memory');
  const maxMemory = num('maxmemory');
  return {
    node: name,
    role: info.role ?? 'unknown',
    version: info.redis_version ?? 'unknown',
    usedMemory,
    maxMemory,
    memoryRatio: maxMemory > 0 ? usedMemory / maxMemory : null,
    maxMemoryPolicy: info.maxmemory_policy ?? 'unknown',
    connectedClients: num('connected_clients'),
    keyspaceHits: hits,
    keyspaceMisses: misses,
    hitRate: hits + misses > 0 ? hits / (hits + misses) : null,
    evictedKeys: num('evicted_keys'),
  };
}

/** Warnings for one node's settings. */
export function warningsFor(node: NodeHealth): string[] {
  const warnings: string[] = [];
  if (node.maxMemory > 0 && node.maxMemoryPolicy !== 'noeviction') {
    warnings.push(
      `${node.node}: maxmemory-policy ${node.maxMemoryPolicy} can evict lock, claim and session keys (they carry TTLs) when memory is full; use noeviction on a Redis that holds them, or keep caches on a separate Redis.`,
    );
  }
  if (node.memoryRatio !== null && node.memoryRatio > 0.9) {
    warnings.push(`${node.node}: memory is ${(node.memoryRatio * 100).toFixed(0)}% of maxmemory.`);
  }
  return warnings;
}

/**
 * Checks every master: PING latency plus INFO. Never throws: PING failing
 * reads as `ok: false` with the `error`; INFO failing on a node (an ACL user
 * without INFO) leaves `ok` true and lists the node under `unreadable`.
 * `describe` turns a PING failure into the message to report; `budget`, if
 * given, bounds the INFO commands sent after the PING.
 */
export async function checkHealth(
  client: Redis | Cluster,
  mode: HealthReport['mode'],
  describe: (error: unknown) => string = (error) => (error instanceof Error ? error.message : String(error)),
  budget?: TimeBudget,
): Promise<HealthReport> {
  let latencyMs: number;
  try {
    const started = performance.now();
    await client.ping();
    latencyMs = performance.now() - started;
  } catch (error) {
    return { ok: false, latencyMs: null, mode, nodes: [], warnings: [], unreadable: [], error: describe(error) };
  }
  let masters: Redis[];
  try {
    masters = (client as Cluster).isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  } catch {
    // A Cluster that knows no master yet: PING worked, so it is ok, with nothing to read.
    masters = [];
  }
  const nodes: NodeHealth[] = [];
  const unreadable: UnreadablePart[] = [];
  await Promise.all(
    masters.map(async (node) => {
      const name = node.options.path ?? `${node.options.host}:${node.options.port}`;
      try {
        // After the PING's await: the budget is made current again for each INFO.
        nodes.push(nodeHealth(name, parseInfo(await sendWithin(budget, () => node.info()))));
      } catch (error) {
        unreadable.push({
          node: name,
          command: 'INFO',
          missing: INFO_FIELDS,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }),
  );
  const warnings = nodes.flatMap(warningsFor);
  for (const part of unreadable) {
    warnings.push(
      `${part.node}: INFO could not be read (${part.reason}); role, version, memory, the eviction policy and the hit rate are unknown, so an eviction policy that can drop locks and sessions would go unnoticed. Grant the user +info to see them.`,
    );
  }
  return { ok: true, latencyMs, mode, nodes, warnings, unreadable };
}
