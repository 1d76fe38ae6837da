/**
 * Starts the demo as a user does (`pnpm demo` at the repository root, in a
 * process group of its own like a terminal's foreground job) and stops it as
 * Ctrl-C does (SIGINT to the whole group). Each run gets a unique state file,
 * whose path is also in the environment of every process the demo starts: a
 * scan of /proc for it finds anything that outlived the demo.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guardProcess, releaseProcess } from '@stratacache/test-utils';
import type { DemoState } from '../src/launcher/state-file.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** A demo started by a test. */
export interface RunningDemo {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /**
   * Resolves once `pnpm demo` has exited and every process holding its output has too (the
   * launcher and its children): pnpm itself ends on the SIGINT of a Ctrl-C, the launcher after
   * stopping everything.
   */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stateFile: string;
  /** The demo's state, once it is ready. */
  ready(timeoutMs?: number): Promise<DemoState>;
  /** Ctrl-C: SIGINT to the process group. */
  interrupt(): void;
}

/** Runs `pnpm demo` with `env` added to (or, for `undefined` values, removed from) the environment. */
export function startDemo(env: Record<string, string | undefined> = {}): RunningDemo {
  const stateFile = join(mkdtempSync(join(tmpdir(), 'stratashop-test-')), 'state.json');
  const merged: NodeJS.ProcessEnv = { ...process.env, DEMO_STATE_FILE: stateFile, NO_COLOR: '1' };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  const child = spawn('pnpm', ['demo'], {
    cwd: repoRoot,
    env: merged,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid) guardProcess(child.pid);
  let output = '';
  child.stdout?.on('data', (c) => {
    output += c;
  });
  child.stderr?.on('data', (c) => {
    output += c;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      if (child.pid) releaseProcess(child.pid);
      resolve({ code, signal });
    }),
  );
  let launcher: number | undefined;
  return {
    child,
    output: () => output,
    exited,
    stateFile,
    async ready(timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (existsSync(stateFile)) {
          const state = JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState;
          // The launcher runs under pnpm: guard it too, so a crashed test run cannot leave it behind.
          launcher = state.pid;
          guardProcess(launcher);
          return state;
        }
        if (child.exitCode !== null)
          throw new Error(`the demo exited (${child.exitCode}) before it was ready:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`the demo was not ready within ${timeoutMs} ms:\n${output}`);
    },
    interrupt() {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGINT');
      } catch {
        // The group is gone already.
      }
      void exited.then(() => launcher && releaseProcess(launcher));
    },
  };
}

/** Pids of live processes whose environment names `stateFile` (every process a demo run started). */
export function processesOf(stateFile: string): number[] {
  const marker = `DEMO_STATE_FILE=${stateFile}`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue; // exited, not reaped yet
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker)) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}
