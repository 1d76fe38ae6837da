/**
 * vitest global setup: resolves the Redis of one project (package, or a
 * topology project of the root config) and hands it to tests through
 * `inject('redis')`. On `standalone` that is one server (see
 * resolve-redis.ts); on `cluster` and `sentinel` a local Cluster or Sentinel
 * group (see topology.ts). The teardown stops whatever was started, also when
 * tests failed; the process guard covers runs that are interrupted or killed.
 *
 * ```ts
 * // vitest.config.ts
 * export default defineConfig({ test: { globalSetup: ['@stratacache/test-utils/global-setup'] } });
 * ```
 */
import type { TestProject } from 'vitest/node';
import { type RedisSource, resolveRedis } from './resolve-redis.js';
import { parseTopology, startTopology, type Topology } from './topology.js';

/** What tests receive from `inject('redis')`. */
export interface ProvidedRedis {
  source: RedisSource;
  /** The topology of this project. */
  topology: Topology;
  /** The server's URL on `standalone`; empty on `cluster` and `sentinel`. */
  url: string;
  socketPath?: string;
  pid?: number;
  /** Seed nodes, on `cluster`. */
  clusterNodes?: { host: string; port: number }[];
  /** Sentinels and the master group's name, on `sentinel`. */
  sentinels?: { host: string; port: number }[];
  sentinelName?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    redis: ProvidedRedis;
  }
}

/** Starts (or finds) Redis in the project's topology and provides it; returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const named = project.config.env?.STRATA_TOPOLOGY;
  const topology = parseTopology(named ?? process.env.TOPOLOGY, named ? 'STRATA_TOPOLOGY' : 'TOPOLOGY');
  if (topology !== 'standalone') {
    const started = await startTopology(topology);
    const provided: ProvidedRedis = { source: 'binary', topology, url: '' };
    if (started.clusterNodes) provided.clusterNodes = started.clusterNodes;
    if (started.sentinels) provided.sentinels = started.sentinels;
    if (started.sentinelName) provided.sentinelName = started.sentinelName;
    project.provide('redis', provided);
    return () => started.stop();
  }
  const redis = await resolveRedis();
  const provided: ProvidedRedis = { source: redis.source, topology, url: redis.url };
  if (redis.socketPath) provided.socketPath = redis.socketPath;
  if (redis.pid !== undefined) provided.pid = redis.pid;
  project.provide('redis', provided);
  return () => redis.stop();
}
