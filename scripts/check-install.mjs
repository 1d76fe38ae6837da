#!/usr/bin/env node
/**
 * The install a user does, checked: a scratch project (`.tmp/install-check/`,
 * its own package.json, npm, no workspace) installs the tarballs of
 * `pnpm pack:all` with ioredis 5 and then with ioredis 6, and for each:
 *
 * 1. type-checks every migration guide's "after" program under `strict`
 *    against the installed packages' own `.d.ts` (and that ioredis major's);
 * 2. runs each of them unchanged under tsx against a private redis-server,
 *    and requires the same output from both majors;
 * 3. runs the installed `stratacache` bin (`health --json`).
 *
 * One scratch install is reused (`npm install --prefer-offline`): the second
 * major only swaps ioredis. Usage: `node scripts/check-install.mjs [--pack]`
 * (`--pack` runs `pack-all.mjs --no-build` first; CI packs right before).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guideBlocks, guideFiles } from './migration-guides.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const scratch = join(root, '.tmp/install-check');
const tarballDir = join(root, '.tmp/packages');
const started = performance.now();
const log = (line) => console.log(`[check-install ${((performance.now() - started) / 1000).toFixed(0)}s] ${line}`);
const problems = [];

if (process.argv.includes('--pack')) {
  execFileSync(process.execPath, [join(root, 'scripts/pack-all.mjs'), '--no-build'], { stdio: 'inherit' });
}
const tarballs = existsSync(tarballDir) ? readdirSync(tarballDir).filter((f) => f.endsWith('.tgz')) : [];
if (tarballs.length === 0) {
  console.error(`no tarballs in ${tarballDir}: run pnpm pack:all (or this script with --pack)`);
  process.exit(1);
}

// The programs: every guide's "after" blocks.
const programs = guideFiles().flatMap((file) => guideBlocks(file).filter((b) => b.side === 'after'));
if (programs.length === 0) {
  console.error('no "### After:" blocks in docs/migrating/*.md');
  process.exit(1);
}

mkdirSync(join(scratch, 'programs'), { recursive: true });
writeFileSync(
  join(scratch, 'package.json'),
  `${JSON.stringify({ name: 'stratacache-install-check', private: true, type: 'module' }, null, 2)}\n`,
);
writeFileSync(
  join(scratch, 'tsconfig.json'),
  `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
      },
      include: ['programs/*.mts'],
    },
    null,
    2,
  )}\n`,
);
const files = programs.map((block) => {
  const file = join(scratch, 'programs', `${block.guide}-${block.line}.mts`);
  writeFileSync(file, `${block.code}\n`);
  return { block, file };
});
for (const old of readdirSync(join(scratch, 'programs'))) {
  if (!files.some((f) => f.file.endsWith(`/${old}`))) rmSync(join(scratch, 'programs', old));
}

// What the programs import besides the packages, and what compiles them.
const tools = [
  'express@^5.1.0',
  'express-session@^1.18.2',
  'tsx@~4.21.0',
  'typescript@~5.9.3',
  '@types/node@^20.19.0',
  '@types/express@^5.0.3',
  '@types/express-session@^1.18.2',
];

const redis = await startRedis();
const outputs = new Map();
try {
  for (const major of [5, 6]) {
    log(`npm install: ${tarballs.length} tarballs, ioredis@${major}`);
    try {
      execFileSync(
        'npm',
        [
          'install',
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          '--loglevel=error',
          '--no-package-lock',
          ...tarballs.map((t) => join(tarballDir, t)),
          `ioredis@^${major === 5 ? '5.9.0' : '6.0.0'}`,
          ...tools,
        ],
        { cwd: scratch, stdio: ['ignore', 'inherit', 'inherit'] },
      );
    } catch {
      problems.push(`npm install with ioredis ${major} failed (see above)`);
      continue;
    }
    const installed = JSON.parse(readFileSync(join(scratch, 'node_modules/ioredis/package.json'), 'utf8')).version;
    if (!installed.startsWith(`${major}.`)) problems.push(`asked for ioredis ${major}, got ${installed}`);
    // Every @stratacache package must resolve inside the scratch project, never from the repository.
    for (const name of ['@stratacache/core-client', '@stratacache/patterns', '@stratacache/sessions']) {
      const where = execFileSync(process.execPath, ['-p', `require.resolve(${JSON.stringify(name)})`], { cwd: scratch })
        .toString()
        .trim();
      if (!where.startsWith(`${scratch}/node_modules/`))
        problems.push(`${name} resolved outside the scratch project: ${where}`);
    }

    log(`ioredis ${installed}: type-check ${files.length} programs`);
    try {
      execFileSync(join(scratch, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: scratch, stdio: 'pipe' });
    } catch (error) {
      problems.push(
        `ioredis ${installed}: the guides' "after" programs do not compile:\n${error.stdout?.toString() ?? error.message}`,
      );
    }

    for (const { block, file } of files) {
      const name = `${block.guide} (${block.label}, line ${block.line})`;
      const run = await runProgram(file, {
        REDIS_URL: redis.url,
        REDIS_NS: `check-${major}-${block.line}`,
        SESSION_SECRET: 'a session secret of at least thirty-two bytes',
        COOKIE_SECRET: 'a cookie secret of at least thirty-two bytes',
      });
      if (run.code !== 0) {
        problems.push(`ioredis ${installed}: ${name} exited ${run.code}:\n${run.stderr}`);
        continue;
      }
      const last = run.stdout.trim().split('\n').at(-1);
      const seen = outputs.get(file);
      if (seen === undefined) outputs.set(file, last);
      else if (seen !== last) problems.push(`${name} printed ${seen} with ioredis 5 and ${last} with ioredis 6`);
      log(`ioredis ${installed}: ${name}: ${last}`);
    }

    const health = await runProgram(join(scratch, 'node_modules/.bin/stratacache'), { REDIS_URL: redis.url }, [
      'health',
      '--json',
    ]);
    if (health.code !== 0 || !JSON.parse(health.stdout || '{}').ok) {
      problems.push(`ioredis ${installed}: npx stratacache health exited ${health.code}: ${health.stderr}`);
    } else log(`ioredis ${installed}: stratacache health --json: ok`);
  }
} finally {
  await redis.stop();
}

if (problems.length > 0) {
  console.error(`\ncheck-install failed:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
log(`OK: ${files.length} "after" programs compiled and ran with ioredis 5 and 6 from the packed tarballs`);

/** Runs `file` (a .mts under tsx, or an executable) in the scratch project; never longer than 60 s. */
function runProgram(file, env, args = []) {
  return new Promise((resolveRun) => {
    const command = file.endsWith('.mts') ? join(scratch, 'node_modules/.bin/tsx') : file;
    const child = spawn(command, file.endsWith('.mts') ? [file, ...args] : args, {
      cwd: scratch,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_NO_WARNINGS: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** A private redis-server on a free port (no persistence), stopped at the end. */
async function startRedis() {
  const port = await new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address();
      server.close(() => resolvePort(free));
    });
  });
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
