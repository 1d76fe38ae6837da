/**
 * The Redis topology a vitest project runs on: `standalone` (one server, the
 * default), `cluster` (three masters with a replica each) or `sentinel` (a
 * master, a replica and a sentinel).
 *
 * A project names its topology with `STRATA_TOPOLOGY` in its `test.env` (the
 * root `vitest.config.ts` defines the `cluster` and `sentinel` projects that
 * way); otherwise `TOPOLOGY` from the environment decides, so
 * `TOPOLOGY=cluster pnpm vitest run --project invalidation` runs a whole
 * package on a Cluster. Tests build their clients with `testRedisOptions()`
 * (through each package's `client()` helper) and never need to know which.
 */
import type { RedisClusterHandle } from './redis-cluster.js';
import { startRedisCluster } from './redis-cluster.js';
import type { RedisSentinelHandle } from './redis-sentinel.js';
import { startRedisSentinel } from './redis-sentinel.js';

/** The Redis topologies tests run on. */
export type Topology = 'standalone' | 'cluster' | 'sentinel';

/** The topologies, in the order the matrix runs them. */
export const TOPOLOGIES: readonly Topology[] = Object.freeze(['standalone', 'cluster', 'sentinel']);

/** The name of the master group of the Sentinel topology. */
export const TEST_SENTINEL_NAME = 'strata-test';

/** Parses a topology name; throws naming the variable for anything else. */
export function parseTopology(value: string | undefined, source = 'TOPOLOGY'): Topology {
  const name = (value ?? '').trim().toLowerCase() || 'standalone';
  if (!(TOPOLOGIES as readonly string[]).includes(name)) {
    throw new Error(`${source} must be one of ${TOPOLOGIES.join(', ')}; got "${value}"`);
  }
  return name as Topology;
}

/** A started (or found) Cluster or Sentinel group, as the global setup provides it. */
export interface StartedTopology {
  topology: Exclude<Topology, 'standalone'>;
  clusterNodes?: { host: string; port: number }[];
  sentinels?: { host: string; port: number }[];
  sentinelName?: string;
  /** Stops what was started (nothing when the environment named an existing one). */
  stop(): Promise<void>;
}

/** Parses `host:port,host:port`. */
function nodeList(value: string): { host: string; port: number }[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const at = part.lastIndexOf(':');
      return { host: part.slice(0, at), port: Number(part.slice(at + 1)) };
    });
}

/**
 * Starts a Cluster or a Sentinel group for a test run, unless the
 * environment names one already (`REDIS_CLUSTER_NODES`, or `REDIS_SENTINELS`
 * with `REDIS_SENTINEL_NAME`): then it is used as it is.
 */
export async function startTopology(
  topology: Exclude<Topology, 'standalone'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StartedTopology> {
  if (topology === 'cluster') {
    if (env.REDIS_CLUSTER_NODES) {
      return { topology, clusterNodes: nodeList(env.REDIS_CLUSTER_NODES), stop: async () => {} };
    }
    const cluster: RedisClusterHandle = await startRedisCluster({ replicasPerMaster: 1 });
    return { topology, clusterNodes: [...cluster.seeds], stop: () => cluster.stop() };
  }
  if (env.REDIS_SENTINELS && env.REDIS_SENTINEL_NAME) {
    return {
      topology,
      sentinels: nodeList(env.REDIS_SENTINELS),
      sentinelName: env.REDIS_SENTINEL_NAME,
      stop: async () => {},
    };
  }
  const group: RedisSentinelHandle = await startRedisSentinel({ name: TEST_SENTINEL_NAME, replicas: 1 });
  return {
    topology,
    sentinels: [...group.sentinels],
    sentinelName: group.name,
    stop: () => group.stop(),
  };
}
