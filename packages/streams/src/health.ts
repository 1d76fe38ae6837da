/**
 * Health checks in the shape `@stratacache/metrics`' `createHealth({ redis, checks })` takes,
 * defined here structurally so this package does not depend on metrics.
 */

/** What a check answers: a boolean, or `{ ok, detail }`. */
export type HealthCheckResult = { ok: boolean; detail?: Record<string, unknown> } | boolean;

/** One check. It should finish, or give up, when `signal` aborts. */
export type HealthCheck = (signal: AbortSignal) => Promise<HealthCheckResult>;

/** Liveness checks (is the process worth keeping) and readiness checks (should it get work). */
export interface HealthChecks {
  live: Record<string, HealthCheck>;
  ready: Record<string, HealthCheck>;
}

/** The outcome of running a set of checks. */
export interface HealthOutcome {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: Record<string, unknown>; error?: string }>;
}

/**
 * Runs `checks` concurrently, each bounded by `timeoutMs`: a check that
 * throws, or has not answered in time, fails (its signal is aborted).
 */
export async function runHealthChecks(checks: Record<string, HealthCheck>, timeoutMs: number): Promise<HealthOutcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        let timeout: NodeJS.Timeout | undefined;
        const timedOut = new Promise<never>((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        });
        try {
          const result = await Promise.race([check(controller.signal), timedOut]);
          const outcome =
            typeof result === 'boolean' ? { ok: result } : { ok: result.ok === true, detail: result.detail };
          return [name, outcome] as const;
        } catch (error) {
          return [name, { ok: false, error: error instanceof Error ? error.message : String(error) }] as const;
        } finally {
          clearTimeout(timeout);
        }
      }),
    );
    return { ok: entries.every(([, outcome]) => outcome.ok), checks: Object.fromEntries(entries) };
  } finally {
    clearTimeout(timer);
  }
}
