/** A promise bounded by a deadline: nothing a scrape or a probe awaits can hang. */
import { TimeoutError } from '@stratacache/core-client';

/**
 * Resolves or rejects like `promise`, or rejects with `TimeoutError` after
 * `ms` (and aborts `controller`, if given, so the work can stop).
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  controller?: AbortController,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TimeoutError(`${what} did not answer within ${ms} ms`, { context: { timeoutMs: ms } });
      controller?.abort(error);
      reject(error);
    }, ms);
  });
  // The loser of the race may still reject later: that is expected, not unhandled.
  promise.catch(() => {});
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
