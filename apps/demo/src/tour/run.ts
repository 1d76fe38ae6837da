/** Every step of the tour, in order; the CLI and the end-to-end test both run this. */
import type { TourContext } from './context.js';
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
