/**
 * The launcher killed with SIGKILL (no handler runs): its reaper, a detached
 * process holding a pipe to it, sees the pipe close and kills what the
 * launcher started, so not even a crash leaves the demo's processes behind.
 */
import { eventually, isProcessAlive } from '@stratacache/test-utils';
import { afterAll, expect, it } from 'vitest';
import { processesOf, type RunningDemo, startDemo } from './demo-process.js';

let demo: RunningDemo | undefined;
afterAll(async () => {
  if (demo && demo.child.exitCode === null && demo.child.signalCode === null) {
    demo.interrupt();
    await demo.exited;
  }
});

it('leaves no process behind when the launcher is killed with SIGKILL', { timeout: 120_000 }, async () => {
  demo = startDemo({ REDIS_URL: undefined, DATABASE_URL: undefined, REDIS_NS: undefined, DEMO_PORT: '0' });
  const state = await demo.ready();
  expect(state.pids.every(isProcessAlive)).toBe(true);

  process.kill(state.pid, 'SIGKILL');
  await demo.exited;
  const stateFile = demo.stateFile;
  await eventually(() => !state.pids.some(isProcessAlive) && processesOf(stateFile).length === 0, 15_000).catch(
    () => {},
  );
  expect(state.pids.filter(isProcessAlive)).toEqual([]);
  expect(processesOf(stateFile)).toEqual([]);
});
