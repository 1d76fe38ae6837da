/** A bound on any one read a page makes, so a frozen Redis renders an error state instead of a hung page. */
import { TimeoutError } from '@stratacache/core-client';

/** Resolves `promise`, or rejects with a `TimeoutError` after `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** How long one page may wait for Redis in total before it shows an error. */
export const PAGE_BUDGET_MS = 4000;
