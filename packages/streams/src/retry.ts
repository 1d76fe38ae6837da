/** Retries with capped, jittered exponential backoff that a stop or a revocation cuts short. */

/** Thrown when a retried operation is given up (stop, revoked partition): nothing was committed. */
export class Abandoned extends Error {
  constructor(readonly operation: string) {
    super(`${operation} abandoned`);
    this.name = 'Abandoned';
  }
}

/** How {@link retrying} waits and when it gives up. */
export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Aborted on stop: the wait ends at once and the operation is abandoned. */
  signal: AbortSignal;
  /** Checked before each attempt: true abandons (a revoked partition). */
  abandon?: () => boolean;
  /** Each failure, before its wait. */
  onError(operation: string, error: unknown, attempt: number): void;
}

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The delay before retry number `attempt` (1-based): base * 2^(attempt-1), capped, with 50-100% jitter. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const capped = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(capped * (0.5 + Math.random() * 0.5));
}

/** Runs `fn` until it succeeds; throws {@link Abandoned} when stopped or abandoned first. */
export async function retrying<T>(operation: string, fn: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    if (policy.signal.aborted || policy.abandon?.()) throw new Abandoned(operation);
    try {
      return await fn();
    } catch (error) {
      policy.onError(operation, error, attempt);
      await sleep(backoffDelay(attempt, policy.baseDelayMs, policy.maxDelayMs), policy.signal);
    }
  }
}
