/**
 * The two shop instances, each a child process running `src/instance.ts`
 * under tsx. Their output is passed through with a `[a]` / `[b]` prefix. An
 * instance says it is ready over the IPC channel once it listens.
 */
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Child, startChild } from './children.js';
import { DemoStartError } from './fatal.js';

/** A running instance. */
export interface DemoInstance {
  name: string;
  url: string;
  child: Child;
}

const appDir = fileURLToPath(new URL('../..', import.meta.url));

/** Starts instance `name` on `port` with `env`; resolves once it listens. */
export async function startInstance(name: string, port: number, env: NodeJS.ProcessEnv): Promise<DemoInstance> {
  const script = fileURLToPath(new URL('../instance.ts', import.meta.url));
  const child = startChild(`instance ${name}`, process.execPath, ['--import', 'tsx', script], {
    cwd: appDir,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...env, DEMO_INSTANCE: name, PORT: String(port) },
  });
  for (const stream of [child.process.stdout, child.process.stderr]) {
    if (!stream) continue;
    const out = stream === child.process.stdout ? process.stdout : process.stderr;
    createInterface({ input: stream }).on('line', (line) => out.write(`[${name}] ${line}\n`));
  }
  const ready = await Promise.race([
    new Promise<string>((resolve) =>
      child.process.on('message', (m: { ready?: boolean; url?: string }) => {
        if (m?.ready && m.url) resolve(m.url);
      }),
    ),
    child.exited.then(() => undefined),
  ]);
  if (!ready) throw new DemoStartError(`Instance ${name} exited before it was ready; its output is above.`);
  return { name, url: ready, child };
}
