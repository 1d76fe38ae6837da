/** Waiting and the server clock, shared by the coordination features. */
import type { StrataRedis, TimeBudget } from '@stratacache/core-client';

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The Redis server's clock in ms: what the scripts use, so clients with skewed clocks agree. */
export async function serverTimeMs(redis: StrataRedis, budget?: TimeBudget): Promise<number> {
  const [seconds, micros] = (await redis.run('time', (c) => c.time(), { budget })) as [
    string | number,
    string | number,
  ];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
