/** Starts worker processes (test/fixtures/worker.ts) and reads their JSON lines. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const worker = fileURLToPath(new URL('./fixtures/instance.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('./fixtures/tsconfig.json', import.meta.url));

/** A running worker: its process, and its output events as they arrive. */
export interface Worker {
  child: ChildProcess;
  events: Record<string, unknown>[];
  /** Resolves with the first event matching `predicate`. */
  next(predicate: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves when the process exits, with every event. */
  done(): Promise<Record<string, unknown>[]>;
}

/** Starts `worker.ts <mode> <args>` under tsx, resolving workspace packages to source. */
export function startWorker(mode: string, args: Record<string, unknown>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, mode, JSON.stringify(args)], {
    cwd: packageDir,
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
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
