/**
 * Redis server metrics from `INFO`, read at scrape (one read per node shared
 * by every gauge of the scrape, bounded by a timeout) and named as
 * redis_exporter names them, so existing Grafana panels and alerts work.
 * A node whose INFO cannot be read (an ACL user without `+info`, a timeout)
 * reads as `redis_up 0` plus a count of why, instead of failing the scrape.
 */
import { parseInfo, type StrataRedis } from '@stratacache/core-client';
import type { Cluster, Redis } from 'ioredis';
import type { Registrar } from './registrar.js';
import { ScrapeCache } from './scrape-cache.js';
import { withTimeout } from './timeout.js';

/** One node's INFO, or why it could not be read. */
export interface NodeReading {
  node: string;
  info?: Record<string, string>;
  error?: 'noperm' | 'timeout' | 'error';
}

const GAUGES: ReadonlyArray<[name: string, field: string, help: string]> = [
  ['redis_memory_used_bytes', 'used_memory', 'Bytes used by Redis (INFO used_memory).'],
  ['redis_memory_max_bytes', 'maxmemory', 'The maxmemory limit in bytes; 0 means none (INFO maxmemory).'],
  ['redis_connected_clients', 'connected_clients', 'Client connections (INFO connected_clients).'],
  [
    'redis_instantaneous_ops_per_sec',
    'instantaneous_ops_per_sec',
    'Commands per second (INFO instantaneous_ops_per_sec).',
  ],
];

const COUNTERS: ReadonlyArray<[name: string, field: string, help: string]> = [
  ['redis_evicted_keys_total', 'evicted_keys', 'Keys evicted by maxmemory (INFO evicted_keys).'],
  ['redis_expired_keys_total', 'expired_keys', 'Keys expired (INFO expired_keys).'],
  ['redis_keyspace_hits_total', 'keyspace_hits', 'Successful key lookups (INFO keyspace_hits).'],
  ['redis_keyspace_misses_total', 'keyspace_misses', 'Failed key lookups (INFO keyspace_misses).'],
  ['redis_commands_processed_total', 'total_commands_processed', 'Commands processed (INFO total_commands_processed).'],
];

function nodeName(node: Redis): string {
  const o = node.options;
  return o.path ?? `${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
}

function reasonOf(error: unknown): NodeReading['error'] {
  const text = error instanceof Error ? `${(error as { code?: string }).code ?? ''} ${error.message}` : String(error);
  if (/NOPERM/i.test(text)) return 'noperm';
  if (/E_TIMEOUT|timed? ?out|did not answer/i.test(text)) return 'timeout';
  return 'error';
}

/** Reads INFO from every master of `redis`, once per `ttlMs`, each within `timeoutMs`. */
export function serverReader(
  redis: StrataRedis,
  ttlMs: number,
  timeoutMs: number,
  onError: (node: string, reason: string) => void,
): ScrapeCache<NodeReading[]> {
  const client = redis.client as Redis | Cluster;
  return new ScrapeCache<NodeReading[]>(
    async () => {
      const nodes = (client as Cluster).isCluster ? (client as Cluster).nodes('master') : [client as Redis];
      return Promise.all(
        nodes.map(async (node): Promise<NodeReading> => {
          const name = nodeName(node);
          try {
            const text = await withTimeout(node.info(), timeoutMs, `INFO of ${name}`);
            return { node: name, info: parseInfo(text) };
          } catch (error) {
            const reason = reasonOf(error) ?? 'error';
            onError(name, reason);
            return { node: name, error: reason };
          }
        }),
      );
    },
    ttlMs,
    // Each node has its own timeout above; this bound is only a backstop.
    timeoutMs * 2,
    'INFO',
  );
}

/**
 * Registers the Redis server metrics (redis_exporter names) of `redis` and
 * returns the reader they share (the in-process alerts read it too).
 */
export function serverMetrics(r: Registrar, redis: StrataRedis): ScrapeCache<NodeReading[]> {
  let reader: ScrapeCache<NodeReading[]> | undefined;
  const read = async () => {
    try {
      return (await reader?.read()) ?? [];
    } catch {
      return [];
    }
  };
  const errors = r.counter(
    'redis_info_errors_total',
    'INFO reads that failed, by node and reason (noperm, timeout, error).',
    ['node', 'reason'],
    // Collected in registration order: read first, so this scrape's failure is in this scrape.
    async () => {
      await read();
    },
  );
  reader = serverReader(redis, r.options.scrapeCacheTtlMs, r.options.scrapeTimeoutMs, (node, reason) =>
    errors.inc(r.labels(errors, { node, reason })),
  );
  r.gauge(
    'redis_up',
    'Whether the last INFO read of the node succeeded (1) or not (0).',
    ['node'],
    async function collect() {
      this.reset();
      for (const n of await read()) this.set(r.labels(this, { node: n.node }), n.info ? 1 : 0);
    },
    true,
  );
  for (const [name, field, help] of GAUGES) {
    r.gauge(
      name,
      help,
      ['node'],
      async function collect() {
        this.reset();
        for (const n of await read()) {
          const value = Number(n.info?.[field]);
          if (n.info && Number.isFinite(value)) this.set(r.labels(this, { node: n.node }), value);
        }
      },
      true,
    );
  }
  for (const [name, field, help] of COUNTERS) {
    r.counter(
      name,
      help,
      ['node'],
      async function collect() {
        // The server keeps the running total: the counter mirrors it (reset, then the total).
        this.reset();
        for (const n of await read()) {
          const value = Number(n.info?.[field]);
          if (n.info && Number.isFinite(value) && value >= 0) this.inc(r.labels(this, { node: n.node }), value);
        }
      },
      true,
    );
  }
  return reader;
}
