/**
 * Makes sure no process started by test-utils outlives the process that
 * started it, however that process ends.
 *
 * - a normal exit: the `exit` hook kills every tracked pid synchronously;
 * - a crash, SIGKILL or an interrupted run: the reaper (`reaper.cjs`), a
 *   detached child holding the other end of a pipe, sees the pipe close and
 *   kills every tracked pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const tracked = new Set<number>();
let reaper: ChildProcess | undefined;
let exitHookInstalled = false;

function killNow(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT');
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function ensureReaper(): ChildProcess | undefined {
  if (reaper && reaper.exitCode === null && !reaper.killed) return reaper;
  const script = fileURLToPath(new URL('./reaper.cjs', import.meta.url));
  const child = spawn(process.execPath, [script], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  child.on('error', () => {
    reaper = undefined;
  });
  // Neither the child nor its pipe may keep the owner's event loop alive.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  child.stdin?.on('error', () => {});
  reaper = child;
  return child;
}

/** Tracks `pid` so it is killed when this process ends, however it ends. */
export function guardProcess(pid: number): void {
  tracked.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const p of tracked) killNow(p);
    });
  }
  const current = reaper;
  const active = ensureReaper();
  if (active && active !== current) {
    // A new reaper (the first, or a replacement for one that died) learns every tracked pid.
    active.stdin?.write([...tracked].map((p) => `+${p}\n`).join(''));
  } else {
    active?.stdin?.write(`+${pid}\n`);
  }
}

/** Stops tracking `pid` (it exited, or was stopped on purpose). */
export function releaseProcess(pid: number): void {
  if (!tracked.delete(pid)) return;
  reaper?.stdin?.write(`-${pid}\n`);
}

/** Pids currently tracked by this process; for tests and diagnostics. */
export function trackedProcesses(): readonly number[] {
  return [...tracked];
}

/**
 * True when a process with `pid` runs. A zombie (exited, not yet reaped by its
 * parent, as happens under a PID 1 that does not reap) counts as gone.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Linux: the state letter follows the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(0) succeeding is the best answer there is
  }
}
