/**
 * Finds a Redis for tests, in this order:
 *
 * 1. `REDIS_URL` when set: used as it is, nothing started;
 * 2. a private `redis-server` from PATH on a free loopback port and a unix socket;
 * 3. a Redis container through testcontainers, when a Docker engine answers;
 * 4. otherwise an error that says how to get one.
 */
import { execFileSync } from 'node:child_process';
import { dockerAnswers } from './docker.js';
import { startRedisServer } from './redis-server.js';

/** Where the Redis for this run came from. */
export type RedisSource = 'env' | 'binary' | 'container';

/** A Redis ready for tests. */
export interface ResolvedRedis {
  source: RedisSource;
  /** Connection URL (`redis://...`). */
  url: string;
  /** Unix socket path, when the server was started here. */
  socketPath?: string;
  /** Process id of a server started here. */
  pid?: number;
  /** Stops what was started (nothing for `env`). Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link resolveRedis}; they exist so tests can prove each fallback. */
export interface ResolveRedisOptions {
  /** Environment to read `REDIS_URL` from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The server binary to look for. @default 'redis-server' */
  binary?: string;
  /** Whether Docker answers. @default a ping of the Docker socket */
  docker?: () => Promise<boolean>;
  /** The container image. @default 'redis:7-alpine' */
  image?: string;
}

/** The message of the error thrown when no Redis can be found. */
export const NO_REDIS_MESSAGE = [
  'No Redis for the tests. Any one of these works:',
  '  - set REDIS_URL, e.g. REDIS_URL=redis://127.0.0.1:6379 pnpm test',
  '  - put redis-server on PATH (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)',
  '  - start a Docker engine (testcontainers then runs redis:7-alpine)',
].join('\n');

/** True when `binary` runs (`--version` exits 0). */
export function binaryRuns(binary: string): boolean {
  try {
    execFileSync(binary, ['--version'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** Resolves a Redis by the order above. */
export async function resolveRedis(options: ResolveRedisOptions = {}): Promise<ResolvedRedis> {
  const env = options.env ?? process.env;
  const url = env.REDIS_URL?.trim();
  if (url) return { source: 'env', url, stop: async () => {} };

  const binary = options.binary ?? 'redis-server';
  if (binaryRuns(binary)) {
    const server = await startRedisServer({ binary });
    return {
      source: 'binary',
      url: server.url,
      socketPath: server.socketPath,
      pid: server.pid,
      stop: () => server.stop(),
    };
  }

  if (await (options.docker ?? (() => dockerAnswers(env)))()) {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer(options.image ?? 'redis:7-alpine')
      .withCommand(['redis-server', '--save', '', '--appendonly', 'no'])
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
      .start();
    let stopped = false;
    return {
      source: 'container',
      url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await container.stop();
      },
    };
  }

  throw new Error(NO_REDIS_MESSAGE);
}
