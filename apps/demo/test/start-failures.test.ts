/**
 * `pnpm demo` when it cannot start: a clear paragraph on stderr, a non-zero
 * exit, no stack trace, and nothing left running.
 */
import { eventually, getFreePort } from '@stratacache/test-utils';
import { describe, expect, it } from 'vitest';
import { processesOf, startDemo } from './demo-process.js';

async function failedStart(env: Record<string, string | undefined>) {
  const demo = startDemo({ DEMO_PORT: '0', ...env });
  const { code } = await demo.exited;
  await eventually(() => processesOf(demo.stateFile).length === 0, 10_000).catch(() => {});
  return { code, output: demo.output(), left: processesOf(demo.stateFile) };
}

/** Lines that look like a JavaScript stack frame. */
const STACK_FRAME = /^\s+at .+[:(]/m;

describe('pnpm demo cannot start', () => {
  it('says how to fix a REDIS_URL that points at a closed port', { timeout: 60_000 }, async () => {
    const port = await getFreePort(); // free a moment ago, so nothing listens there
    const { code, output, left } = await failedStart({
      REDIS_URL: `redis://127.0.0.1:${port}`,
      DATABASE_URL: undefined,
    });
    expect(code).not.toBe(0);
    expect(output).toContain(`stratashop could not start. Cannot reach Redis at REDIS_URL=redis://127.0.0.1:${port}`);
    expect(output).toContain('unset REDIS_URL to let the demo start a private redis-server');
    expect(output).not.toMatch(STACK_FRAME);
    expect(output).not.toContain('ready in'); // no database or instance was started
    expect(left).toEqual([]);
  });

  it('says how to get Redis when redis-server is not installed', { timeout: 60_000 }, async () => {
    const { code, output, left } = await failedStart({
      REDIS_URL: undefined,
      DATABASE_URL: undefined,
      REDIS_SERVER_BIN: '/nonexistent/redis-server',
    });
    expect(code).not.toBe(0);
    expect(output).toContain("No Redis: REDIS_URL is not set and '/nonexistent/redis-server' is not on your PATH");
    expect(output).toContain('apt-get install redis-server');
    expect(output).not.toMatch(STACK_FRAME);
    expect(left).toEqual([]);
  });

  it('says how to fix a DATABASE_URL that points at a closed port, and stops the Redis it started', {
    timeout: 60_000,
  }, async () => {
    const port = await getFreePort();
    const { code, output, left } = await failedStart({
      REDIS_URL: undefined,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/demo`,
    });
    expect(code).not.toBe(0);
    expect(output).toContain(`Cannot reach PostgreSQL at DATABASE_URL=postgres://postgres@127.0.0.1:${port}/demo`);
    expect(output).not.toMatch(STACK_FRAME);
    expect(left).toEqual([]);
  });
});
