import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isProcessAlive, ping } from '../src/index.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const ownerScript = fileURLToPath(new URL('./fixtures/owner-process.ts', import.meta.url));

/** Starts the owner process and resolves with it and the pid of the redis-server it started. */
function startOwner(mode: string): Promise<{ owner: ChildProcess; redisPid: number; port: number }> {
  return new Promise((resolve, reject) => {
    const owner = spawn(process.execPath, ['--import', 'tsx', ownerScript, mode], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    owner.stderr.on('data', (c) => {
      err += c;
    });
    owner.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        const { pid, port } = JSON.parse(line);
        resolve({ owner, redisPid: pid, port });
      }
    });
    owner.on('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`owner exited (${code}) before starting redis: ${err}`));
    });
  });
}

async function waitUntilGone(pid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isProcessAlive(pid);
}

describe('no redis-server outlives the process that started it', () => {
  it.each([
    ['killed with SIGKILL', 'wait', 'SIGKILL'],
    ['stopped with SIGTERM', 'wait', 'SIGTERM'],
    ['interrupted with SIGINT', 'wait', 'SIGINT'],
    ['exiting without stopping it', 'exit', null],
    ['crashing with an uncaught exception', 'throw', null],
  ] as const)('owner %s', async (_label, mode, signal) => {
    const { owner, redisPid, port } = await startOwner(mode);
    if (signal) {
      // The server runs while its owner does; then the owner is signalled.
      expect(isProcessAlive(redisPid)).toBe(true);
      expect(await ping({ port }, 1000)).toBe(true);
      owner.kill(signal);
    }
    expect(await waitUntilGone(redisPid)).toBe(true);
    expect(await ping({ port }, 300)).toBe(false);
  });
});
