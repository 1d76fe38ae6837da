/**
 * A local Redis Cluster from redis-server processes: N masters (and optional
 * replicas) on free loopback ports, joined with `redis-cli --cluster create`,
 * ready once every node reports `cluster_state:ok`. Every node is a
 * {@link RedisServerHandle}, so tests can stop, kill, pause or restart one.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { type RedisServerHandle, type RedisServerOptions, startRedisServer } from './redis-server.js';

const execFileAsync = promisify(execFile);

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** Master nodes (at least 3, as redis-cli requires). @default 3 */
  masters?: number;
  /** Replicas per master. @default 0 */
  replicasPerMaster?: number;
  /** Options for every node (password, users, maxmemory, args...). */
  node?: Omit<RedisServerOptions, 'port' | 'tls'>;
  /** How long to wait for cluster_state:ok, in ms. @default 20000 */
  readyTimeoutMs?: number;
}

/** A running local cluster. */
export interface RedisClusterHandle {
  /** Every node, masters first as created. */
  readonly nodes: readonly RedisServerHandle[];
  /** Seed nodes for a Cluster client (`[{ host, port }]`). */
  readonly seeds: readonly { host: string; port: number }[];
  /** `REDIS_CLUSTER_NODES` form: `127.0.0.1:p1,127.0.0.1:p2,...`. */
  readonly nodesEnv: string;
  /** Stops every node. Idempotent. */
  stop(): Promise<void>;
}

async function clusterState(port: number, password?: string): Promise<string> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const info = (await client.call('CLUSTER', 'INFO')) as string;
    return /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return 'unreachable';
  } finally {
    client.disconnect();
  }
}

/**
 * Starts a cluster and resolves once it serves every slot.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster();
 * const client = new Cluster(cluster.seeds);
 * await cluster.stop();
 * ```
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  if (masters < 3) throw new Error('A Redis Cluster needs at least 3 masters');
  const nodeOptions = options.node ?? {};
  const nodes: RedisServerHandle[] = [];
  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      nodes.push(
        await startRedisServer({
          ...nodeOptions,
          args: [...(nodeOptions.args ?? []), '--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'],
        }),
      );
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    const auth = nodeOptions.password ? ['-a', nodeOptions.password, '--no-auth-warning'] : [];
    await execFileAsync(
      'redis-cli',
      [...auth, '--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
    const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
    for (;;) {
      const states = await Promise.all(nodes.map((n) => clusterState(n.port, nodeOptions.password)));
      if (states.every((s) => s === 'ok')) break;
      if (Date.now() > deadline) throw new Error(`Cluster not ready: node states ${states.join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  const seeds = nodes.slice(0, masters).map((n) => ({ host: '127.0.0.1', port: n.port }));
  return {
    nodes,
    seeds,
    nodesEnv: seeds.map((s) => `${s.host}:${s.port}`).join(','),
    stop: stopAll,
  };
}
