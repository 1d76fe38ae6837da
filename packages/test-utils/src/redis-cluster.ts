/**
 * A local Redis Cluster from redis-server processes: N masters (and optional
 * replicas) on free loopback ports, joined with `redis-cli --cluster create`,
 * ready once every node reports `cluster_state:ok` and every replica has
 * finished its first sync (a replica that never synced cannot be promoted, so
 * a failover test started earlier would wait forever). Every node is a
 * {@link RedisServerHandle}, so tests can stop, kill, pause or restart one.
 *
 * Settings chosen for tests on a busy machine, each one a Redis setting with
 * the same meaning in production:
 * - `cluster-node-timeout` 2 s (`nodeTimeoutMs`): a killed master is marked
 *   failed after about that long, and its replica promoted about 0.5-1 s later.
 * - `repl-diskless-sync-delay 0`: a replica's first sync starts at once
 *   instead of after 5 s.
 * - `cluster-replica-validity-factor 0`: a replica may always be promoted,
 *   however long ago it last heard its master (a loaded CI machine can
 *   starve the replication link).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { acknowledgedByAll, askRedis } from './ask.js';
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
  /** How long to wait for cluster_state:ok and replica sync, in ms. @default 30000 */
  readyTimeoutMs?: number;
  /** `cluster-node-timeout`, in ms: how long a silent master takes to be marked failed. @default 2000 */
  nodeTimeoutMs?: number;
  /**
   * `cluster-require-full-coverage`: with `true` (Redis's default) every node
   * refuses every command (CLUSTERDOWN) while any slot has no master.
   * @default true
   */
  requireFullCoverage?: boolean;
}

/** What {@link RedisClusterHandle.waitForFailover} observed. */
export interface ClusterFailover {
  /** The replica that now serves the dead master's slots. */
  promoted: RedisServerHandle;
  /** `performance.now()` when the promotion was first seen (polled every 20 ms). */
  at: number;
}

/** A running local cluster. */
export interface RedisClusterHandle {
  /** Every node, masters first as created, then their replicas. */
  readonly nodes: readonly RedisServerHandle[];
  /** Seed nodes for a Cluster client (`[{ host, port }]`): the masters as created. */
  readonly seeds: readonly { host: string; port: number }[];
  /** `REDIS_CLUSTER_NODES` form: `127.0.0.1:p1,127.0.0.1:p2,...`. */
  readonly nodesEnv: string;
  /** The node serving `key`'s slot now (asked of a live node). */
  masterOf(key: string): Promise<RedisServerHandle>;
  /** The replicas following `master` now. */
  replicasOf(master: RedisServerHandle): Promise<RedisServerHandle[]>;
  /**
   * Resolves once a replica of `dead` (a master that was killed or stopped)
   * is a master serving slots and the cluster is ok again.
   */
  waitForFailover(dead: RedisServerHandle, timeoutMs?: number): Promise<ClusterFailover>;
  /** Stops every node. Idempotent. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One line of CLUSTER NODES. */
interface NodeLine {
  port: number;
  id: string;
  master: boolean;
  failed: boolean;
  masterId: string;
  slots: boolean;
}

function parseNodes(text: string): NodeLine[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', masterId = '', , , , link = '', ...slots] = line.split(' ');
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1]),
        master: flags.split(',').includes('master'),
        failed: /fail/.test(flags) || link !== 'connected',
        masterId,
        slots: slots.length > 0,
      };
    });
}

/**
 * Starts a cluster and resolves once it serves every slot and every replica is in sync.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster({ replicasPerMaster: 1 });
 * const client = new Cluster(cluster.seeds);
 * const victim = await cluster.masterOf('user:42');
 * await victim.kill();
 * const { promoted } = await cluster.waitForFailover(victim);
 * await cluster.stop();
 * ```
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  if (masters < 3) throw new Error('A Redis Cluster needs at least 3 masters');
  const nodeOptions = options.node ?? {};
  const password = nodeOptions.password;
  const nodes: RedisServerHandle[] = [];
  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  const clusterArgs = [
    '--cluster-enabled',
    'yes',
    '--cluster-node-timeout',
    String(options.nodeTimeoutMs ?? 2000),
    '--cluster-require-full-coverage',
    options.requireFullCoverage === false ? 'no' : 'yes',
    '--repl-diskless-sync-delay',
    '0',
    '--cluster-replica-validity-factor',
    '0',
    ...(password ? ['--masterauth', password] : []),
  ];
  try {
    // In parallel: each start is mostly waiting for a process to answer PING.
    const started = await Promise.allSettled(
      Array.from({ length: masters * (1 + replicas) }, () =>
        startRedisServer({ ...nodeOptions, args: [...(nodeOptions.args ?? []), ...clusterArgs] }),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    const auth = password ? ['-a', password, '--no-auth-warning'] : [];
    await execFileAsync(
      'redis-cli',
      [...auth, '--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'],
      { timeout: 30_000 },
    );
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    for (;;) {
      const [states, links, views] = await Promise.all([
        Promise.all(nodes.map((n) => askRedis(n.port, password, 'CLUSTER', 'INFO'))),
        Promise.all(nodes.map((n) => askRedis(n.port, password, 'INFO', 'replication'))),
        Promise.all(nodes.map((n) => askRedis(n.port, password, 'CLUSTER', 'NODES'))),
      ]);
      const ok = states.every((s) => /cluster_state:ok/.test(String(s)));
      // Every replica is one and has finished its first sync.
      const replicaCount = links.filter((info) => /role:slave/.test(String(info))).length;
      const synced =
        replicaCount === masters * replicas &&
        links.every((info) => !/role:slave/.test(String(info)) || /master_link_status:up/.test(String(info)));
      // Every node's view of the cluster knows every replica (gossip spreads the roles; a view
      // without them would make replicasOf and waitForFailover look in the wrong place).
      const agreed = views.every(
        (text) => typeof text === 'string' && parseNodes(text).filter((l) => !l.master).length === masters * replicas,
      );
      // A replica just synced is put online by its first acknowledgement (up to a second later):
      // until then WAIT counts it out. Ready once each master's write is acknowledged by its replicas.
      const masterPorts = nodes.filter((_, i) => /role:master/.test(String(links[i]))).map((n) => n.port);
      if (
        ok &&
        synced &&
        agreed &&
        (await Promise.all(masterPorts.map((p) => acknowledgedByAll(p, password, replicas)))).every(Boolean)
      ) {
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`Cluster not ready: states ${states.map((s) => /cluster_state:(\w+)/.exec(String(s))?.[1])}`);
      }
      await sleep(100);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  const byPort = (port: number) => nodes.find((n) => n.port === port);
  /** CLUSTER NODES from the first node that answers (skipping `skip`). */
  const clusterNodes = async (skip?: RedisServerHandle): Promise<NodeLine[] | undefined> => {
    for (const node of nodes) {
      if (node === skip) continue;
      const text = await askRedis(node.port, password, 'CLUSTER', 'NODES');
      if (typeof text === 'string') return parseNodes(text);
    }
    return undefined;
  };
  const seeds = nodes.slice(0, masters).map((n) => ({ host: '127.0.0.1', port: n.port }));
  return {
    nodes,
    seeds,
    nodesEnv: seeds.map((s) => `${s.host}:${s.port}`).join(','),
    async masterOf(key) {
      for (const node of nodes) {
        const slot = await askRedis(node.port, password, 'CLUSTER', 'KEYSLOT', key);
        if (slot === undefined) continue;
        const ranges = (await askRedis(node.port, password, 'CLUSTER', 'SLOTS')) as [
          number,
          number,
          [string, number],
        ][];
        const range = ranges?.find(([from, to]) => Number(slot) >= from && Number(slot) <= to);
        const master = range ? byPort(Number(range[2][1])) : undefined;
        if (master) return master;
      }
      throw new Error(`No live node knows the master of ${key}`);
    },
    async replicasOf(master) {
      const lines = await clusterNodes();
      const id = lines?.find((l) => l.port === master.port)?.id;
      return (lines ?? [])
        .filter((l) => id !== undefined && l.masterId === id)
        .map((l) => byPort(l.port))
        .filter((n): n is RedisServerHandle => n !== undefined);
    },
    async waitForFailover(dead, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      const before = await clusterNodes(dead);
      const deadId = before?.find((l) => l.port === dead.port)?.id;
      const candidates = (before ?? []).filter((l) => l.masterId === deadId).map((l) => l.port);
      // One connection per candidate, polled every 10 ms: the time seen is within a few ms of the promotion.
      const probes = candidates.map((port) => {
        const client = new Redis({ port, host: '127.0.0.1', password, commandTimeout: 1000, maxRetriesPerRequest: 0 });
        client.on('error', () => {});
        return { port, client };
      });
      try {
        for (;;) {
          for (const { port, client } of probes) {
            const role = (await client.role().catch(() => undefined)) as unknown[] | undefined;
            if (role?.[0] !== 'master') continue;
            const at = performance.now();
            // Promoted; wait until it serves (its own view of the cluster is ok).
            while (!/cluster_state:ok/.test(String(await client.call('CLUSTER', 'INFO').catch(() => '')))) {
              if (Date.now() > deadline) break;
              await sleep(10);
            }
            const promoted = byPort(port);
            if (promoted) return { promoted, at };
          }
          if (Date.now() > deadline) throw new Error(`No replica of port ${dead.port} was promoted in ${timeoutMs} ms`);
          await sleep(10);
        }
      } finally {
        for (const { client } of probes) client.disconnect();
      }
    },
    stop: stopAll,
  };
}
