/**
 * The launcher's child processes: each is started in a process group of its
 * own (so a Ctrl-C in the terminal reaches only the launcher, which then stops
 * them in order: the instances first, so they can flush, then the database and
 * Redis), registered with a detached reaper that kills them if the launcher
 * dies without stopping them, and stopped with SIGTERM then SIGKILL.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A child the launcher started. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

let reaper: ChildProcess | undefined;
const tracked = new Set<number>();

function reaperProcess(): ChildProcess {
  if (reaper && reaper.exitCode === null) return reaper;
  const script = fileURLToPath(new URL('./reaper.cjs', import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  // Neither the reaper nor its pipe may keep the launcher alive.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  child.stdin?.on('error', () => {});
  child.stdin?.write([...tracked].map((p) => `+${p}\n`).join(''));
  reaper = child;
  return child;
}

/** Starts `command` as a guarded child in its own process group. */
export function startChild(name: string, command: string, args: readonly string[], options: SpawnOptions): Child {
  const child = spawn(command, args, { ...options, detached: true });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.once('error', () => resolve('spawn-error'));
  });
  const pid = child.pid;
  if (pid === undefined) {
    // spawn failed (ENOENT...): the 'error' event carries the reason; callers await `exited`.
    return { name, process: child, pid: -1, exited, stop: async () => {} };
  }
  tracked.add(pid);
  reaperProcess().stdin?.write(`+${pid}\n`);
  void exited.then(() => {
    tracked.delete(pid);
    reaper?.stdin?.write(`-${pid}\n`);
  });
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5000): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signal(pid, 'SIGCONT'); // a paused process (the tour pauses Redis) cannot act on SIGTERM
      signal(pid, 'SIGTERM');
      const timer = setTimeout(() => signal(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  return { name, process: child, pid, exited, stop };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** Kills every child still running, synchronously (the `exit` hook's last resort). */
export function killAllNow(): void {
  for (const pid of tracked) {
    signal(pid, 'SIGCONT');
    signal(pid, 'SIGKILL');
  }
}

/** Ends the reaper once every child has been stopped, so nothing of the demo is left. */
export function releaseReaper(): void {
  reaper?.stdin?.end();
}
