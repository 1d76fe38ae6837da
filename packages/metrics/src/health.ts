/**
 * Liveness and readiness. Liveness (`/healthz`) says the process runs and
 * Redis answers a PING within the timeout; readiness (`/readyz`) runs every
 * registered check, each within the timeout, so a check that hangs is
 * reported as failed instead of hanging the probe.
 */
import { ConfigError, type Duration, type StrataRedis, toMs } from '@stratacache/core-client';
import { pingCheck } from './checks.js';
import { withTimeout } from './timeout.js';

/** What a check resolves: a boolean, or `ok` with details to show. */
export type HealthCheckResult = { ok: boolean; detail?: Record<string, unknown> } | boolean;

/**
 * A readiness check. It gets a signal that aborts at the timeout, so it can
 * stop its work; it is reported as failed at the timeout either way.
 */
export type HealthCheck = (signal: AbortSignal) => Promise<HealthCheckResult>;

/** One check's outcome. */
export interface CheckReport {
  ok: boolean;
  /** How long the check took (or the timeout, when it hung), in ms. */
  latencyMs: number;
  detail?: Record<string, unknown>;
  /** Why it failed, when it threw or timed out. */
  error?: string;
}

/** What `liveness()` and `readiness()` resolve, and the JSON the handlers send. */
export interface HealthReport {
  ok: boolean;
  status: 'ok' | 'fail';
  checks: Record<string, CheckReport>;
}

/** Options of {@link createHealth}. */
export interface HealthOptions {
  /** The client whose Redis must answer PING for liveness. @default none (liveness is the process only) */
  redis?: StrataRedis;
  /** Readiness checks by name. More can be added with `register`. @default {} */
  checks?: Record<string, HealthCheck>;
  /** How long each check (and the liveness PING) may take. @default '1s' */
  timeout?: Duration;
}

/** What {@link createHealth} returns. */
export interface Health {
  /** The process, plus a Redis PING when `redis` was given. */
  liveness(): Promise<HealthReport>;
  /** Every registered check, in parallel, each within the timeout. */
  readiness(): Promise<HealthReport>;
  /** Adds a readiness check; returns a function that removes it. A taken name throws `ConfigError`. */
  register(name: string, check: HealthCheck): () => void;
}

/** Runs `check` within `timeoutMs`; never throws. */
export async function runCheck(name: string, check: HealthCheck, timeoutMs: number): Promise<CheckReport> {
  const controller = new AbortController();
  const started = performance.now();
  try {
    const result = await withTimeout(
      Promise.resolve().then(() => check(controller.signal)),
      timeoutMs,
      `check ${name}`,
      controller,
    );
    const latencyMs = performance.now() - started;
    if (typeof result === 'boolean') return { ok: result, latencyMs };
    if (typeof result !== 'object' || result === null || typeof result.ok !== 'boolean') {
      return { ok: false, latencyMs, error: `check ${name} resolved neither a boolean nor { ok }` };
    }
    return result.detail === undefined
      ? { ok: result.ok, latencyMs }
      : { ok: result.ok, latencyMs, detail: result.detail };
  } catch (error) {
    return {
      ok: false,
      latencyMs: performance.now() - started,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

async function report(checks: Array<[string, HealthCheck]>, timeoutMs: number): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async ([name, check]) => [name, await runCheck(name, check, timeoutMs)] as const),
  );
  const ok = results.every(([, r]) => r.ok);
  return { ok, status: ok ? 'ok' : 'fail', checks: Object.fromEntries(results) };
}

/**
 * Creates liveness and readiness probes.
 *
 * @example
 * ```ts
 * const health = createHealth({
 *   redis,
 *   checks: { redis: pingCheck(redis), breaker: breakerClosedCheck(redis), bus: busConnectedCheck(bus) },
 * });
 * const { ok, checks } = await health.readiness();
 * ```
 */
export function createHealth(options: HealthOptions = {}): Health {
  const timeoutMs = toMs(options.timeout ?? '1s', 'timeout');
  if (timeoutMs <= 0) throw new ConfigError('timeout must be more than 0 ms', { context: { option: 'timeout' } });
  const checks = new Map<string, HealthCheck>();
  const register = (name: string, check: HealthCheck) => {
    if (typeof name !== 'string' || name.length === 0 || typeof check !== 'function') {
      throw new ConfigError(`a health check needs a non-empty name and a function; got ${JSON.stringify(name)}`, {
        context: { option: 'checks' },
      });
    }
    if (checks.has(name))
      throw new ConfigError(`a health check named ${name} is already registered`, { context: { option: 'checks' } });
    checks.set(name, check);
    return () => {
      if (checks.get(name) === check) checks.delete(name);
    };
  };
  for (const [name, check] of Object.entries(options.checks ?? {})) register(name, check);
  const alive: Array<[string, HealthCheck]> = [
    ['process', async () => ({ ok: true, detail: { uptimeSeconds: Math.round(process.uptime()) } })],
  ];
  if (options.redis) alive.push(['redis', pingCheck(options.redis)]);
  return {
    liveness: () => report(alive, timeoutMs),
    readiness: () => report([...checks], timeoutMs),
    register,
  };
}
