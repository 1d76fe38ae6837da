/**
 * The Redis a bench runs against: `REDIS_URL` when set, else a private
 * `redis-server` from PATH on a random loopback port (no persistence), ready
 * when this resolves. `stop()` ends only the server this started.
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';

/**
 * @param {{ private?: boolean }} [options] `private: true` always starts a new server (a bench that
 *   needs an empty script cache, say), even when `REDIS_URL` is set.
 * @returns {Promise<{ url: string, stop: () => void }>}
 */
export async function startServer(options = {}) {
  if (process.env.REDIS_URL && !options.private) return { url: process.env.REDIS_URL, stop: () => {} };
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50 });
  probe.on('error', () => {});
  for (let i = 0; i < 100; i++) {
    try {
      await probe.connect();
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  probe.disconnect();
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill() };
}
