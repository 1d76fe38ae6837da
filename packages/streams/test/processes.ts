/** Starts this package's worker fixture as a separate OS process (see @stratacache/test-utils startWorker). */
import { fileURLToPath } from 'node:url';
import { startWorker as start, type Worker } from '@stratacache/test-utils';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const script = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('./fixtures/tsconfig.json', import.meta.url));

/** Runs the fixture in `mode` with `args`, workspace packages resolved to source. */
export function startWorker(mode: string, args: Record<string, unknown>): Worker {
  return start(script, mode, args, { tsconfig, cwd: packageDir });
}
