/**
 * The admin console (apps/admin) run as a user runs the command the demo
 * prints: `pnpm admin` at the repository root with that command's variables
 * and no others of theirs, then logged in over HTTP with its one-time password
 * like a browser (cookies, CSRF token, Origin), so a test can read its pages.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { guardProcess, releaseProcess } from '@stratacache/test-utils';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** The `NAME=value` words before `pnpm admin` in `command` (unquoted words only, as the demo prints them for its own Redis). */
export function commandVariables(command: string): Record<string, string> {
  const words = command.trim().split(/\s+/);
  if (words.slice(-2).join(' ') !== 'pnpm admin') throw new Error(`not a \`pnpm admin\` command: ${command}`);
  const vars: Record<string, string> = {};
  for (const word of words.slice(0, -2)) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(word);
    if (!match) throw new Error(`not NAME=value: ${word}`);
    vars[match[1] as string] = match[2] as string;
  }
  return vars;
}

/** A console started by a test. */
export interface RunningAdmin {
  child: ChildProcess;
  output(): string;
  /** Once it listens: its URL, the Redis it describes, its one-time admin password. */
  ready(timeoutMs?: number): Promise<{ url: string; redis: string; password: string }>;
  /** SIGTERM to its process group; resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * Runs `pnpm admin` with `vars` as the only `REDIS_*` and `ADMIN_*` variables (the test's own,
 * such as the test Redis's REDIS_URL, are removed), plus `extra` (a free port).
 */
export function startAdmin(vars: Record<string, string>, extra: Record<string, string> = {}): RunningAdmin {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(REDIS|ADMIN)_/.test(k)) env[k] = v;
  Object.assign(env, vars, extra);
  const child = spawn('pnpm', ['admin'], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid) guardProcess(child.pid);
  let output = '';
  child.stdout?.on('data', (c) => {
    output += c;
  });
  child.stderr?.on('data', (c) => {
    output += c;
  });
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      if (child.pid) releaseProcess(child.pid);
      resolve();
    }),
  );
  return {
    child,
    output: () => output,
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const started = /stratacache admin: (http:\/\/\S+) \(Redis (.*)\)\n/.exec(output);
        const password = /one-time password[^\n]*\n\s+(\S+)/.exec(output);
        if (started && password)
          return { url: started[1] as string, redis: started[2] as string, password: password[1] as string };
        if (child.exitCode !== null) throw new Error(`pnpm admin exited (${child.exitCode}):\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`pnpm admin did not start within ${timeoutMs} ms:\n${output}`);
    },
    async stop() {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Gone already.
      }
      await exited;
    },
  };
}

/** Logs in to the console at `url` as `admin`; resolves a GET of a page (its HTML) with the session. */
export async function adminSession(url: string, password: string): Promise<(path: string) => Promise<string>> {
  const cookies = new Map<string, string>();
  const send = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${url}${path}`, {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string>),
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      if (value === '' || /max-age=0/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
    return { status: response.status, body: await response.text() };
  };
  const form = await send('/login');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1];
  if (!csrf) throw new Error(`no CSRF token on the login page (${form.status})`);
  const login = await send('/login', {
    method: 'POST',
    headers: { origin: url, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, user: 'admin', password, next: '/' }).toString(),
  });
  if (login.status !== 303) throw new Error(`login failed: ${login.status} ${login.body.slice(0, 300)}`);
  return async (path) => {
    const page = await send(path);
    if (page.status !== 200) throw new Error(`GET ${path}: ${page.status} ${page.body.slice(0, 300)}`);
    return page.body;
  };
}
