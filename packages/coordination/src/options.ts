/** Small helpers to resolve and check options, naming the option in a ConfigError. */
import { ConfigError, type Duration, type StrataRedis, toMs } from '@stratacache/core-client';

/** A positive duration in ms. */
export function positiveMs(value: Duration, option: string): number {
  const ms = toMs(value, option);
  if (ms <= 0)
    throw new ConfigError(`${option} must be more than 0 ms; got ${JSON.stringify(value)}`, { context: { option } });
  return ms;
}

/** A positive integer. */
export function positiveInt(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(`${option} must be a positive integer; got ${JSON.stringify(value)}`, {
      context: { option },
    });
  }
  return value;
}

/** A number in [0, 1]. */
export function fraction(value: unknown, option: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ConfigError(`${option} must be a number from 0 to 1; got ${JSON.stringify(value)}`, {
      context: { option },
    });
  }
  return value;
}

/** A non-empty name for a lock, claim or limiter key. */
export function checkName(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigError(`${option} must be a non-empty string; got ${JSON.stringify(value)}`, {
      context: { option },
    });
  }
  return value;
}

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
export async function serverTimeMs(redis: StrataRedis): Promise<number> {
  const [seconds, micros] = (await redis.run('time', (c) => c.time())) as [string | number, string | number];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
