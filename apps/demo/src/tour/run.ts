/** Every step of the tour, in order; the CLI and the end-to-end test both run this. */
import type { TourContext } from './context.js';
import { call, eventually } from './http.js';
import { catalogStep, failSafeStep, invalidationStep, stampedeStep } from './steps-cache.js';
import { checkoutStep, fencingStep, jobsStep, rateLimitStep, sessionsStep } from './steps-coordination.js';
import { metricsStep, windowsStep } from './steps-ops.js';

/** Options of {@link runTour}. */
export interface TourOptions {
  /** Reindex periods to wait for. @default 2 */
  jobPeriods?: number;
  /** How long Redis stays paused in the fail-safe step, in ms. @default 4000 */
  pauseMs?: number;
}

/** Runs the tour; the fail-safe step comes last because it disturbs everything else. */
export async function runTour(t: TourContext, options: TourOptions = {}) {
  await bothReady(t);
  const catalog = await catalogStep(t);
  const invalidation = await invalidationStep(t);
  const stampede = await stampedeStep(t);
  const sessions = await sessionsStep(t);
  const rateLimit = await rateLimitStep(t);
  const checkout = await checkoutStep(t);
  const fencing = await fencingStep(t);
  const jobs = await jobsStep(t, options.jobPeriods ?? 2);
  const windows = await windowsStep(t);
  const metrics = await metricsStep(t);
  const failSafe = await failSafeStep(t, options.pauseMs ?? 4000);
  return { catalog, invalidation, stampede, sessions, rateLimit, checkout, fencing, jobs, windows, metrics, failSafe };
}

/**
 * Waits (up to 15 s) until both instances answer `/readyz` with 200, so the
 * tour starts from two ready instances: right after `pnpm demo` on a loaded
 * machine an instance may still be warming up. Says which checks fail if one
 * never gets there (the steps that need it then say what they saw).
 */
async function bothReady(t: TourContext): Promise<void> {
  for (const [name, base] of [
    ['a', t.a],
    ['b', t.b],
  ] as const) {
    let last: Awaited<ReturnType<typeof call>> | undefined;
    const ready = await eventually(async () => {
      last = await call('GET', `${base}/readyz`).catch(() => undefined);
      return last?.status === 200 ? last : undefined;
    }, 15_000);
    if (!ready) {
      const failing = Object.entries((last?.body?.checks ?? {}) as Record<string, { ok?: boolean }>)
        .filter(([, c]) => c?.ok === false)
        .map(([check]) => check);
      t.say(
        `instance ${name} is not ready after 15 s (/readyz ${last?.status ?? 'no answer'}: ${failing.join(', ') || 'no details'})`,
      );
    }
  }
}
