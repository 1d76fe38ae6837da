/** Health from PING and INFO: is Redis up, how fast, how full, and is it set up to keep what we need. */
import type { Cluster, Redis } from 'ioredis';

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

/** What `health()` returns; it never throws. */
export interface HealthReport {
  ok: boolean;
  /** Round trip of one PING, in ms. */
  latencyMs: number | null;
  mode: 'standalone' | 'sentinel' | 'cluster';
  nodes: NodeHealth[];
  /** Things to fix, such as an eviction policy that can drop locks and sessions. */
  warnings: string[];
  /** Why `ok` is false. */
  error?: string;
}

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

/** Checks every master: PING latency plus INFO. Never throws; a failure reads as `ok: false`. */
export async function checkHealth(client: Redis | Cluster, mode: HealthReport['mode']): Promise<HealthReport> {
  const nodes = (client as Cluster).isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  try {
    const started = performance.now();
    await client.ping();
    const latencyMs = performance.now() - started;
    const healths = await Promise.all(
      nodes.map(async (node) => {
        const name = node.options.path ?? `${node.options.host}:${node.options.port}`;
        return nodeHealth(name, parseInfo(await node.info()));
      }),
    );
    return { ok: true, latencyMs, mode, nodes: healths, warnings: healths.flatMap(warningsFor) };
  } catch (error) {
    return { ok: false, latencyMs: null, mode, nodes: [], warnings: [], error: (error as Error).message };
  }
}
