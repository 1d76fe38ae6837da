/**
 * A local Sentinel group: one master, replicas following it, and sentinels
 * monitoring it under a name. Sentinels run as `redis-server <conf> --sentinel`
 * with a config file of their own (Sentinel rewrites it), guarded like every
 * other process test-utils starts.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForPing } from './ping.js';
import { getFreePort } from './ports.js';
import {
  endProcess,
  type RedisServerHandle,
  type RedisServerOptions,
  spawnRedisProcess,
  startRedisServer,
} from './redis-server.js';

/** Options of {@link startRedisSentinel}. */
export interface RedisSentinelOptions {
  /** Name of the monitored master group. @default 'mymaster' */
  name?: string;
  /** Replicas of the master. @default 1 */
  replicas?: number;
  /** Sentinel processes. @default 1 */
  sentinels?: number;
  /** Sentinels that must agree the master is down. @default 1 */
  quorum?: number;
  /** Options for the master and replicas (not the sentinels). */
  node?: Omit<RedisServerOptions, 'port' | 'tls'>;
  /** `sentinel down-after-milliseconds`. @default 1000 */
  downAfterMs?: number;
}

/** A running Sentinel group. */
export interface RedisSentinelHandle {
  readonly name: string;
  readonly master: RedisServerHandle;
  readonly replicas: readonly RedisServerHandle[];
  /** Sentinel addresses for a client (`[{ host, port }]`). */
  readonly sentinels: readonly { host: string; port: number }[];
  /** `REDIS_SENTINELS` form. */
  readonly sentinelsEnv: string;
  /** Stops sentinels, replicas and master. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a master, its replicas and sentinels; resolves when every sentinel answers. */
export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelHandle> {
  const name = options.name ?? 'mymaster';
  const node = options.node ?? {};
  const master = await startRedisServer(node);
  const replicas: RedisServerHandle[] = [];
  const sentinelProcesses: ChildProcess[] = [];
  const dirs: string[] = [];
  const sentinels: { host: string; port: number }[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(sentinelProcesses.map((p) => endProcess(p)));
    await Promise.all([...replicas, master].map((s) => s.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const auth = node.password ? ['--masterauth', node.password] : [];
    for (let i = 0; i < (options.replicas ?? 1); i++) {
      replicas.push(
        await startRedisServer({
          ...node,
          args: [...(node.args ?? []), '--replicaof', '127.0.0.1', String(master.port), ...auth],
        }),
      );
    }
    for (let i = 0; i < (options.sentinels ?? 1); i++) {
      const port = await getFreePort();
      const dir = mkdtempSync(join(tmpdir(), 'strata-sentinel-'));
      dirs.push(dir);
      const conf = join(dir, 'sentinel.conf');
      const lines = [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${master.port} ${options.quorum ?? 1}`,
        `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} 5000`,
        ...(node.password ? [`sentinel auth-pass ${name} ${node.password}`] : []),
      ];
      writeFileSync(conf, `${lines.join('\n')}\n`);
      let output = '';
      const child = spawnRedisProcess('redis-server', [conf, '--sentinel'], (chunk) => {
        output = (output + chunk).slice(-8192);
      });
      sentinelProcesses.push(child);
      const alive = () => child.exitCode === null && child.signalCode === null;
      if (!(await waitForPing({ port }, { alive }))) {
        throw new Error(`Sentinel on port ${port} did not start:\n${output}`);
      }
      sentinels.push({ host: '127.0.0.1', port });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name,
    master,
    replicas,
    sentinels,
    sentinelsEnv: sentinels.map((s) => `${s.host}:${s.port}`).join(','),
    stop,
  };
}
