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

/** An instance whose code is loading (or loaded), waiting for the database before it connects and listens. */
export interface StartingInstance {
  name: string;
  child: Child;
  /** Tells it the database is ready; resolves once it listens. */
  go(): Promise<DemoInstance>;
}

const appDir = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Spawns instance `name` for `port`: it loads its code (a couple of seconds of TypeScript through tsx)
 * while the launcher starts the database, then waits for {@link StartingInstance.go}.
 */
export function spawnInstance(name: string, port: number, env: NodeJS.ProcessEnv): StartingInstance {
  const script = fileURLToPath(new URL('../instance.ts', import.meta.url));
  const child = startChild(`instance ${name}`, process.execPath, ['--import', 'tsx', script], {
    cwd: appDir,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...env, DEMO_INSTANCE: name, PORT: String(port), DEMO_WAIT_FOR_GO: '1' },
  });
  for (const stream of [child.process.stdout, child.process.stderr]) {
    if (!stream) continue;
    const out = stream === child.process.stdout ? process.stdout : process.stderr;
    createInterface({ input: stream }).on('line', (line) => out.write(`[${name}] ${line}\n`));
  }
  const listening = Promise.race([
    new Promise<string>((resolve) =>
      child.process.on('message', (m: { ready?: boolean; url?: string }) => {
        if (m?.ready && m.url) resolve(m.url);
      }),
    ),
    child.exited.then(() => undefined),
  ]);
  return {
    name,
    child,
    async go() {
      if (child.process.connected) child.process.send({ go: true });
      const url = await listening;
      if (!url) throw new DemoStartError(`Instance ${name} exited before it was ready; its output is above.`);
      return { name, url, child };
    },
  };
}
