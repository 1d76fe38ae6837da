/**
 * Runs the `stratacache` bin as a separate process, as a user would: `src/bin.ts` under tsx
 * (workspace packages resolved to source through tsconfig.run.json, so no build is needed).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('./tsconfig.run.json', import.meta.url));

/** One run of the command. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (with --json), else undefined. */
  json: unknown;
}

/** Runs `stratacache ...args` with `env` on top of a clean environment (no REDIS_* of the parent). */
export function stratacache(args: string[], env: Record<string, string>): Promise<CliRun> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('REDIS_') && !k.startsWith('SESSION_')),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', bin, ...args],
      {
        cwd: packageDir,
        timeout: 60_000,
        env: { ...base, ...env, TSX_TSCONFIG_PATH: tsconfig, NODE_NO_WARNINGS: '1' },
      },
      (error, stdout, stderr) => {
        let json: unknown;
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
        const code = error ? Number((error as { code?: number | string }).code ?? 1) : 0;
        resolve({ code: Number.isNaN(code) ? 1 : code, stdout, stderr, json });
      },
    );
  });
}
