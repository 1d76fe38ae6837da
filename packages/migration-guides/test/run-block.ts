/**
 * Runs one block of a migration guide as the program it is: written to a `.mts` file in this
 * package (so "before" code imports the peer libraries installed here) and started under tsx in
 * its own process. "After" code resolves `@stratacache/*` to the workspace sources through
 * `run.tsconfig.json`, so no build is needed.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GuideBlock } from '../../../scripts/migration-guides.mjs';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const tsconfig = fileURLToPath(new URL('./run.tsconfig.json', import.meta.url));

/** What a block printed. */
export interface BlockRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last line of stdout, parsed as JSON (every block ends by printing its results). */
  result: unknown;
}

/** Runs `block` with `env` (REDIS_URL, REDIS_NS, secrets); rejects after `timeoutMs`. */
export function runBlock(block: GuideBlock, env: Record<string, string>, timeoutMs = 60_000): Promise<BlockRun> {
  const dir = `${packageDir}.tmp/`;
  mkdirSync(dir, { recursive: true });
  const file = `${dir}${block.guide}-${block.side}-${block.line}.mts`;
  writeFileSync(file, `${block.code}\n`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', file],
      {
        cwd: packageDir,
        timeout: timeoutMs,
        env: { ...process.env, ...env, TSX_TSCONFIG_PATH: tsconfig, NODE_NO_WARNINGS: '1' },
      },
      (error, stdout, stderr) => {
        const last = stdout.trim().split('\n').at(-1) ?? '';
        let result: unknown;
        try {
          result = JSON.parse(last);
        } catch {
          result = undefined;
        }
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr, result });
      },
    );
  });
}
