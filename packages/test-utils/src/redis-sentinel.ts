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
import { Redis } from 'ioredis';
import { acknowledgedByAll, askRedis } from './ask.js';
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

/** What {@link RedisSentinelHandle.waitForFailover} observed. */
export interface SentinelFailover {
  /** The replica Sentinel promoted. */
  promoted: RedisServerHandle;
  /** `performance.now()` when the promotion was first seen (polled every 10 ms). */
  at: number;
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
  /** The server Sentinel names as master now. */
  currentMaster(): Promise<RedisServerHandle>;
  /**
   * Resolves once Sentinel names another server than `old` as master and that
   * server says it is one (after `old` was killed or stopped).
   */
  waitForFailover(old: RedisServerHandle, timeoutMs?: number): Promise<SentinelFailover>;
  /** Stops sentinels, replicas and master. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a master, its replicas and sentinels; resolves when every sentinel answers. */
export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelHandle> {
  const name = options.name ?? 'mymaster';
  const node = options.node ?? {};
  // The replicas' first sync starts at once instead of after repl-diskless-sync-delay's 5 s.
  const master = await startRedisServer({ ...node, args: [...(node.args ?? []), '--repl-diskless-sync-delay', '0'] });
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
          args: [
            ...(node.args ?? []),
            '--replicaof',
            '127.0.0.1',
            String(master.port),
            '--repl-diskless-sync-delay',
            '0',
            ...auth,
          ],
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
    // Ready for a failover test: every replica synced, and every sentinel knows every replica.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const links = await Promise.all(replicas.map((r) => askRedis(r.port, node.password, 'INFO', 'replication')));
      const known = await Promise.all(sentinels.map((s) => askRedis(s.port, undefined, 'SENTINEL', 'REPLICAS', name)));
      const synced = links.every((info) => /master_link_status:up/.test(String(info)));
      const seen = known.every((list) => Array.isArray(list) && list.length >= replicas.length);
      // A replica just synced is put online by its first acknowledgement (up to a second later):
      // until then WAIT counts it out. Ready once a write is acknowledged by every replica.
      if (synced && seen && (await acknowledgedByAll(master.port, node.password, replicas.length))) break;
      if (Date.now() > deadline) throw new Error('Sentinel group not ready: replicas not synced or not known');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const all = [master, ...replicas];
  const currentMaster = async (): Promise<RedisServerHandle> => {
    for (const s of sentinels) {
      const reply = (await askRedis(s.port, undefined, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as
        | string[]
        | undefined;
      const found = reply ? all.find((n) => n.port === Number(reply[1])) : undefined;
      if (found) return found;
    }
    throw new Error(`No sentinel names a master for ${name}`);
  };
  return {
    name,
    master,
    replicas,
    sentinels,
    sentinelsEnv: sentinels.map((s) => `${s.host}:${s.port}`).join(','),
    currentMaster,
    async waitForFailover(old, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      const probes = all
        .filter((n) => n !== old)
        .map((n) => {
          const client = new Redis({ port: n.port, host: '127.0.0.1', password: node.password, commandTimeout: 1000 });
          client.on('error', () => {});
          return { n, client };
        });
      try {
        for (;;) {
          for (const { n, client } of probes) {
            const role = (await client.role().catch(() => undefined)) as unknown[] | undefined;
            if (role?.[0] === 'master') return { promoted: n, at: performance.now() };
          }
          if (Date.now() > deadline) throw new Error(`Sentinel promoted no replica within ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        for (const { client } of probes) client.disconnect();
      }
    },
    stop,
  };
}
