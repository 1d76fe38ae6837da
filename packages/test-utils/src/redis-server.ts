/**
 * Private `redis-server` processes for tests: started from PATH on a free
 * loopback port (and a unix socket), ready when they answer PING, and never
 * left running (see process-guard.ts). Handles can stop, kill, pause and
 * restart a server, for the failure tests of the upper layers.
 *
 * Cluster and Sentinel helpers build on the same pieces: `spawnRedisProcess`
 * for one process, `guardProcess` so it dies with its owner.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PingTarget, waitForPing } from './ping.js';
import { getFreePort } from './ports.js';
import { guardProcess, isProcessAlive, releaseProcess } from './process-guard.js';
import { createTlsFixture, type TlsFixture } from './tls-fixture.js';

/** An ACL user created at start (`ACL SETUSER name on >password <rules>`). */
export interface AclUser {
  name: string;
  password: string;
  /**
   * ACL rules after the password.
   * @default ['~*', '&*', '+@all']
   */
  rules?: string[];
}

/** Options of {@link startRedisServer}. All optional. */
export interface RedisServerOptions {
  /** The binary to run: a name looked up on PATH, or a path. @default 'redis-server' */
  binary?: string;
  /** TCP port. @default a free port chosen by the OS */
  port?: number;
  /** Also listen on a unix socket in the server's temp dir. @default true */
  unixSocket?: boolean;
  /** `requirepass` for the default user. */
  password?: string;
  /** ACL users to create. */
  users?: AclUser[];
  /** Serve TLS only (the TCP port speaks TLS; clients need `tls.ca`). @default false */
  tls?: boolean | TlsFixture;
  /** `--maxmemory`, such as `'10mb'`. */
  maxmemory?: string;
  /** `--maxmemory-policy`, such as `'allkeys-lru'`. */
  maxmemoryPolicy?: string;
  /** `--enable-debug-command local`, for DEBUG SLEEP and friends. @default false */
  enableDebug?: boolean;
  /** Extra arguments passed verbatim, such as `['--notify-keyspace-events', 'Ex']`. */
  args?: string[];
  /** How long to wait for the first PONG, in ms. @default 10000 */
  startTimeoutMs?: number;
}

/** A running (or stopped) private Redis server. */
export interface RedisServerHandle {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Unix socket path, when `unixSocket` was on. */
  readonly socketPath: string | undefined;
  /** `redis://` (or `rediss://`) URL with credentials of the default user, if any. */
  readonly url: string;
  /** Unix socket URL (`unix://...`), when `unixSocket` was on. */
  readonly socketUrl: string | undefined;
  /** TLS files, when `tls` was on. */
  readonly tls: TlsFixture | undefined;
  /** Current process id (changes on restart). */
  readonly pid: number;
  /** The command-line arguments used. */
  readonly args: readonly string[];
  /** True while paused with SIGSTOP. */
  readonly paused: boolean;
  /** Output of the server so far (last 16 KiB), for failure messages. */
  output(): string;
  /** Stops the server gracefully (SIGTERM, then SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
  /** Kills the server abruptly (SIGKILL), like a crash. */
  kill(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers. */
  pause(): void;
  /** Resumes a paused process (SIGCONT). */
  resume(): void;
  /** Stops and starts again on the same port with the same arguments; data is gone. */
  restart(): Promise<void>;
}

const OUTPUT_LIMIT = 16 * 1024;

function buildArgs(port: number, dir: string, options: RedisServerOptions, tls: TlsFixture | undefined): string[] {
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
  if (tls) {
    args.push('--port', '0', '--tls-port', String(port));
    args.push('--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile);
    args.push('--tls-auth-clients', 'optional');
  } else {
    args.push('--port', String(port));
  }
  if (options.unixSocket !== false) args.push('--unixsocket', join(dir, 'redis.sock'), '--unixsocketperm', '700');
  if (options.password !== undefined) args.push('--requirepass', options.password);
  for (const user of options.users ?? []) {
    // Separate argv entries: redis-server quotes an entry holding spaces into one token.
    args.push('--user', user.name, 'on', `>${user.password}`, ...(user.rules ?? ['~*', '&*', '+@all']));
  }
  if (options.maxmemory !== undefined) args.push('--maxmemory', options.maxmemory);
  if (options.maxmemoryPolicy !== undefined) args.push('--maxmemory-policy', options.maxmemoryPolicy);
  if (options.enableDebug) args.push('--enable-debug-command', 'local');
  args.push(...(options.args ?? []));
  return args;
}

/** Error thrown when a server cannot be started; the message carries its output. */
export class RedisServerStartError extends Error {
  override name = 'RedisServerStartError';
}

/** Spawns one guarded redis-server process; resolves once it exits or fails to spawn. */
export function spawnRedisProcess(binary: string, args: string[], onOutput: (chunk: string) => void): ChildProcess {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.setEncoding('utf8').on('data', onOutput);
  child.stderr?.setEncoding('utf8').on('data', onOutput);
  if (child.pid !== undefined) guardProcess(child.pid);
  child.once('exit', () => {
    if (child.pid !== undefined) releaseProcess(child.pid);
  });
  return child;
}

/**
 * Ends `child`: `signal` (SIGCONT first, so a paused process can act on it),
 * then SIGKILL if it has not exited within 5 s. Resolves once it exited.
 */
export async function endProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGCONT');
  child.kill(signal);
  if (!(await waitForExit(child, 5000))) {
    child.kill('SIGKILL');
    await waitForExit(child, 5000);
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts a private redis-server and resolves once it answers PING.
 *
 * @example
 * ```ts
 * const server = await startRedisServer({ password: 's3cret', enableDebug: true });
 * server.pause();   // Redis stops answering
 * server.resume();
 * await server.stop();
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const binary = options.binary ?? 'redis-server';
  const dir = mkdtempSync(join(tmpdir(), 'strata-redis-'));
  const tls = options.tls === true ? createTlsFixture(join(dir)) : options.tls || undefined;
  let port = options.port ?? (await getFreePort());
  let output = '';
  const onOutput = (chunk: string): void => {
    output = (output + chunk).slice(-OUTPUT_LIMIT);
  };
  let args = buildArgs(port, dir, options, tls);
  let child: ChildProcess;
  let paused = false;
  let stopped = false;

  // Readiness goes over the unix socket in our private temp dir when there is
  // one: a PONG on the TCP port could come from another process that took the
  // port between our probe and the bind.
  const privateSocket = options.unixSocket !== false ? join(dir, 'redis.sock') : undefined;
  const pingTarget = (): PingTarget =>
    privateSocket
      ? { socketPath: privateSocket, password: options.password }
      : {
          port,
          password: options.password,
          tls: tls ? { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } : undefined,
        };

  const launch = async (attempt: number, mayMovePort: boolean): Promise<void> => {
    child = spawnRedisProcess(binary, args, onOutput);
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const alive = (): boolean => child.exitCode === null && child.signalCode === null;
    const ready = await Promise.race([
      waitForPing(pingTarget(), { timeoutMs: options.startTimeoutMs ?? 10_000, alive }),
      spawnError,
    ]);
    if (ready === true && alive()) return;
    child.kill('SIGKILL');
    await waitForExit(child, 2000);
    // The port was taken between our probe and the bind: try another once or twice.
    if (mayMovePort && attempt < 3 && /Address already in use/i.test(output)) {
      port = await getFreePort();
      args = buildArgs(port, dir, options, tls);
      return launch(attempt + 1, mayMovePort);
    }
    const reason =
      ready instanceof Error
        ? ready.message
        : child.exitCode !== null
          ? `it exited with code ${child.exitCode}`
          : `no PONG within ${options.startTimeoutMs ?? 10_000} ms`;
    throw new RedisServerStartError(
      `Could not start ${binary} ${args.join(' ')}: ${reason}.\n--- server output ---\n${output.trim()}`,
    );
  };

  await launch(0, options.port === undefined);

  const stopProcess = async (signal: NodeJS.Signals): Promise<void> => {
    paused = false;
    await endProcess(child, signal);
  };

  // stop, kill and restart run one after another, so a stop() issued during a
  // restart() waits for it and then stops the new process instead of racing it.
  let lifecycle: Promise<unknown> = Promise.resolve();
  const serially = <T>(operation: () => Promise<T>): Promise<T> => {
    const next = lifecycle.then(operation, operation);
    lifecycle = next.catch(() => {});
    return next;
  };

  const socketPath = privateSocket;
  const auth = options.password !== undefined ? `:${encodeURIComponent(options.password)}@` : '';
  const handle: RedisServerHandle = {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    socketPath,
    get url() {
      return `${tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`;
    },
    socketUrl: socketPath ? `unix://${socketPath}` : undefined,
    tls,
    get pid() {
      return child.pid as number;
    },
    get args() {
      return args;
    },
    get paused() {
      return paused;
    },
    output: () => output,
    stop() {
      return serially(async () => {
        if (stopped) return;
        stopped = true;
        await stopProcess('SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      });
    },
    kill() {
      return serially(() => stopProcess('SIGKILL'));
    },
    pause() {
      if (!paused && isProcessAlive(child.pid as number)) {
        child.kill('SIGSTOP');
        paused = true;
      }
    },
    resume() {
      if (paused) {
        child.kill('SIGCONT');
        paused = false;
      }
    },
    restart() {
      return serially(async () => {
        if (stopped) throw new Error('restart() after stop(): start a new server instead');
        await stopProcess('SIGTERM');
        // Same port on purpose: clients configured with it must find the server again.
        await launch(0, false);
      });
    },
  };
  return handle;
}
