/**
 * A real Kafka-protocol broker for the tests: librdkafka's mock cluster,
 * started through Debian's `kcat` (in memory, on 127.0.0.1). `.ci/run`
 * installs kcat when it is missing; without it these tests fail and say how
 * to get it, never skip.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { guardProcess, releaseProcess } from '@stratacache/test-utils';

/** A running mock cluster. */
export interface KafkaMock {
  /** `127.0.0.1:<port>` */
  readonly bootstrap: string;
  stop(): Promise<void>;
}

function kcatPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v kcat'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      "kcat is not installed: the Kafka tests need librdkafka's mock cluster through kcat. Install it with `apt-get install -y kcat` (.ci/run does this).",
    );
  }
}

/** Starts a one-broker mock cluster; resolves once it listens. */
export function startKafkaMock(timeoutMs = 15_000): Promise<KafkaMock> {
  const kcat = kcatPath();
  // kcat stays up as a producer reading stdin; the mock cluster lives as long as it does.
  const child: ChildProcess = spawn(
    kcat,
    ['-X', 'test.mock.num.brokers=1', '-d', 'mock', '-P', '-t', 'warmup', '-b', 'x:1'],
    {
      stdio: ['pipe', 'ignore', 'pipe'],
    },
  );
  if (child.pid !== undefined) guardProcess(child.pid);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      if (child.pid !== undefined) releaseProcess(child.pid);
      resolve();
    }),
  );
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kcat mock cluster did not start within ${timeoutMs} ms: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 100_000) stderr += chunk.toString();
      const match = /bootstrap\.servers=(127\.0\.0\.1:\d+)/.exec(stderr);
      if (match && timer) {
        clearTimeout(timer);
        const bootstrap = match[1] as string;
        child.stderr?.removeAllListeners('data');
        child.stderr?.resume();
        resolve({
          bootstrap,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
            await exited;
            clearTimeout(killer);
          },
        });
      }
    });
  });
}
