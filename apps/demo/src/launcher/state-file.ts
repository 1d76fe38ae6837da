/**
 * Where a running demo says where it is, for `pnpm demo:tour` and
 * `pnpm demo:load`: the instances' URLs, the Redis (and whether the demo owns
 * it, so the tour may pause it) and the database. Written once everything is
 * ready, removed at shutdown.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a running demo publishes about itself. */
export interface DemoState {
  /** The launcher's pid. */
  pid: number;
  startedAt: string;
  instances: { name: string; url: string; pid: number }[];
  redis: { url: string; owned: boolean; pid?: number };
  database: { kind: 'embedded' | 'external'; url: string; pid?: number };
  /** Every process the demo started (for the tests' "nothing outlives it"). */
  pids: number[];
}

/** The state file: `DEMO_STATE_FILE`, else one under the app's node_modules/.cache. */
export function stateFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.DEMO_STATE_FILE || fileURLToPath(new URL('../../node_modules/.cache/stratashop/state.json', import.meta.url))
  );
}

/** Writes the state of the demo this process runs (whole or not at all: readers never see half a file). */
export function writeState(state: DemoState, path = stateFilePath()): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, path);
}

/** The running demo's state, or undefined when none is running (no file, or its launcher is gone). */
export function readState(path = stateFilePath()): DemoState | undefined {
  if (!existsSync(path)) return undefined;
  const state = JSON.parse(readFileSync(path, 'utf8')) as DemoState;
  try {
    process.kill(state.pid, 0);
  } catch {
    return undefined;
  }
  return state;
}

/** Removes the state file, if it is still this launcher's (`pid`). */
export function removeState(path = stateFilePath(), pid = process.pid): void {
  // Only our own: another demo may have started since and written its state.
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as DemoState;
    if (state.pid === pid) rmSync(path, { force: true });
  } catch {
    // No file, or not readable: nothing to remove.
  }
}
