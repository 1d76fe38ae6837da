/**
 * Child processes for tests whose property is about several OS processes
 * (mutual exclusion, claims, an invalidation bus): a TypeScript fixture run
 * under tsx, reporting one JSON object per stdout line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { guardProcess, releaseProcess } from './process-guard.js';

/** A running worker: its process, and its output events as they arrive. */
export interface Worker {
  child: ChildProcess;
  events: Record<string, unknown>[];
  /** Resolves with the first event matching `predicate`. */
  next(predicate: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves when the process exits, with every event; rejects on a non-zero exit. */
  done(): Promise<Record<string, unknown>[]>;
}

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** tsconfig for tsx (its `paths` can map workspace packages to their sources). */
  tsconfig?: string;
  /** Working directory. @default the script's directory */
  cwd?: string;
}

/**
 * Runs `node --import tsx <script> <mode> <json args>`. The process is
 * guarded like every server test-utils starts: it never outlives the test run.
 */
export function startWorker(
  script: string,
  mode: string,
  args: Record<string, unknown>,
  options: WorkerOptions = {},
): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', script, mode, JSON.stringify(args)], {
    cwd: options.cwd ?? dirname(script),
    env: { ...process.env, ...(options.tsconfig ? { TSX_TSCONFIG_PATH: options.tsconfig } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) guardProcess(child.pid);
  const events: Record<string, unknown>[] = [];
  let stderr = '';
  let buffer = '';
  const waiters: {
    predicate: (e: Record<string, unknown>) => boolean;
    resolve: (e: Record<string, unknown>) => void;
  }[] = [];
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  child.stdout?.on('data', (chunk) => {
    buffer += chunk;
    let at = buffer.indexOf('\n');
    while (at >= 0) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      at = buffer.indexOf('\n');
      if (!line.trim()) continue;
      const event = JSON.parse(line) as Record<string, unknown>;
      events.push(event);
      for (const w of [...waiters]) {
        if (w.predicate(event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
    }
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      if (child.pid !== undefined) releaseProcess(child.pid);
      resolve();
    }),
  );
  return {
    child,
    events,
    next(predicate, timeoutMs = 30_000) {
      const found = events.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`worker ${mode}: no matching event in ${timeoutMs} ms; stderr: ${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
    async done() {
      await exited;
      if (child.exitCode !== 0)
        throw new Error(`worker ${mode} exited ${child.exitCode}: ${JSON.stringify(events)} ${stderr}`);
      return events;
    },
  };
}

/** Polls `check` until it holds or `timeoutMs` passes. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
