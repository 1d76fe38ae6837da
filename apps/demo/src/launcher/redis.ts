/**
 * The demo's Redis: `REDIS_URL` when set (checked with a PING, so a wrong URL
 * fails now with a clear message instead of in every request), else a private
 * `redis-server` from PATH on a free loopback port, without persistence, in a
 * temporary directory, else a message saying how to get one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedis } from '@stratacache/core-client';
import { type Child, startChild } from './children.js';
import { DemoStartError } from './fatal.js';
import { bindablePort } from './ports.js';
import { redactUrl } from './redact.js';

/** The Redis the demo runs on. */
export interface DemoRedis {
  url: string;
  /** True when the demo started it (only then may the tour pause it). */
  owned: boolean;
  /** The redis-server process, when owned. */
  child?: Child;
  stop(): Promise<void>;
}

/**
 * On a Redis the demo did not start, the previous run's keys would outlive its database (cached rows
 * of a catalog that was just re-seeded): remove every key under the demo's prefix, and only when
 * that prefix is the demo's own (`stratashop...`), never a prefix another application may use.
 */
export async function clearPreviousRun(url: string, prefix: string): Promise<number> {
  if (!prefix.startsWith('stratashop')) return 0;
  const redis = createRedis({ url, connectionName: 'stratashop-launcher', prefix });
  try {
    return await redis.unlinkMatching(`${prefix}:*`);
  } finally {
    await redis.close().catch(() => {});
  }
}

/** Resolves the demo's Redis from `env`. */
export async function resolveRedis(env: NodeJS.ProcessEnv): Promise<DemoRedis> {
  if (env.REDIS_URL) {
    await checkReachable(env.REDIS_URL);
    return { url: env.REDIS_URL, owned: false, stop: async () => {} };
  }
  return startRedisServer(env.REDIS_SERVER_BIN || 'redis-server');
}

async function checkReachable(url: string): Promise<void> {
  // A TCP connect first: "nothing listens there" is the common mistake, and says it in plain words.
  const refused = await tcpProblem(url);
  if (refused) {
    throw new DemoStartError(
      `Cannot reach Redis at REDIS_URL=${redactUrl(url)}: ${refused}. ` +
        'Start that server, fix the URL, or unset REDIS_URL to let the demo start a private redis-server from your PATH.',
    );
  }
  let redis: ReturnType<typeof createRedis> | undefined;
  try {
    redis = createRedis({
      url,
      connectTimeout: '2s',
      commandTimeout: '3s',
      breaker: false,
      connectionName: 'stratashop-launcher',
    });
    await redis.run('ping', (c) => c.ping());
  } catch (error) {
    throw new DemoStartError(
      `Cannot reach Redis at REDIS_URL=${redactUrl(url)} (${(error as Error).message}). ` +
        'Start that server, fix the URL, or unset REDIS_URL to let the demo start a private redis-server from your PATH.',
    );
  } finally {
    await redis?.close().catch(() => {});
  }
}

/** Why a TCP connection to the URL's host and port fails, or undefined when it connects (or the URL is not TCP). */
async function tcpProblem(url: string): Promise<string | undefined> {
  let host: string;
  let port: number;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return undefined;
    host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    port = Number(parsed.port || 6379);
  } catch {
    return undefined; // core-client says what is wrong with the URL
  }
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(3000, () => {
      socket.destroy();
      resolve(`nothing answered on ${host}:${port} within 3 s`);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      resolve(
        error.code === 'ECONNREFUSED'
          ? `nothing listens on ${host}:${port} (connection refused)`
          : `${host}:${port} cannot be reached (${error.code ?? error.message})`,
      ),
    );
  });
}

async function startRedisServer(binary: string): Promise<DemoRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'stratashop-redis-'));
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await bindablePort(0);
    // No persistence, loopback only, in a directory of its own that is removed afterwards.
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    const child = startChild('redis', binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.process.stdout?.on('data', (c) => {
      output += c;
    });
    child.process.stderr?.on('data', (c) => {
      output += c;
    });
    const started = await Promise.race([
      child.exited.then((code) => ({ exited: code })),
      waitForPing(port).then((ok) => ({ ok })),
    ]);
    if ('ok' in started && started.ok) {
      child.process.stdout?.removeAllListeners('data');
      child.process.stderr?.removeAllListeners('data');
      child.process.stdout?.resume();
      child.process.stderr?.resume();
      return {
        url: `redis://127.0.0.1:${port}`,
        owned: true,
        child,
        stop: async () => {
          await child.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await child.stop();
    if ('exited' in started && started.exited === 'spawn-error') {
      rmSync(dir, { recursive: true, force: true });
      throw new DemoStartError(
        `No Redis: REDIS_URL is not set and '${binary}' is not on your PATH. ` +
          'Install Redis 7 (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) ' +
          'or point the demo at a server you have: REDIS_URL=redis://127.0.0.1:6379 pnpm demo',
      );
    }
    if (!/Address already in use/i.test(output)) {
      rmSync(dir, { recursive: true, force: true });
      throw new DemoStartError(`redis-server did not start: ${output.trim().split('\n').slice(-3).join(' ')}`);
    }
    // Another process took the port between our probe and redis-server's bind: try another.
  }
  rmSync(dir, { recursive: true, force: true });
  throw new DemoStartError('redis-server did not start: no free port after 3 attempts.');
}

/** PINGs over a raw connection until PONG (10 s at most); a client library would add retry logic of its own. */
async function waitForPing(port: number, timeoutMs = 10_000): Promise<boolean> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
      const done = (value: boolean) => {
        socket.destroy();
        resolve(value);
      };
      socket.setTimeout(500, () => done(false));
      socket.on('data', (d) => done(d.toString().startsWith('+PONG')));
      socket.on('error', () => done(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}
