/**
 * The command that opens the admin console (`pnpm admin`, apps/admin) on the
 * demo's data, as the launcher prints it. The console connects with
 * core-client's variables (`REDIS_URL`, and `REDIS_NS` for the key prefix);
 * what it cannot read from Redis comes from its own: the sessions namespace
 * with its per-user limit, the coordination namespace, and the size and grace
 * of the orders window series.
 */
import { COORD_NAMESPACE, ORDER_WINDOWS, SESSIONS } from '../app/redis-names.js';

/** The variables of the command, in the order printed. */
export function adminEnv(redisUrl: string, prefix: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    REDIS_NS: prefix,
    ADMIN_SESSION_NAMESPACES: `${SESSIONS.namespace}=${SESSIONS.maxPerUser}`,
    ADMIN_COORD_NAMESPACE: COORD_NAMESPACE,
    ADMIN_WINDOW_SERIES: `${ORDER_WINDOWS.series}=${ORDER_WINDOWS.size}/${ORDER_WINDOWS.grace}`,
  };
}

/**
 * The command line, to paste at the repository root. A password in the Redis URL is never
 * printed: it shows as `***` (and `redacted` says so, for a note to put it back).
 */
export function adminCommand(redisUrl: string, prefix: string): { command: string; redacted: boolean } {
  let url = redisUrl;
  let redacted = false;
  try {
    const parsed = new URL(redisUrl);
    if (parsed.password) {
      parsed.password = '***';
      url = parsed.toString();
      redacted = true;
    }
  } catch {
    // Not a URL (a socket path, say): printed as it is.
  }
  const vars = Object.entries(adminEnv(url, prefix)).map(([name, value]) => `${name}=${shellQuote(value)}`);
  return { command: `${vars.join(' ')} pnpm admin`, redacted };
}

/** `value` as one shell word: as it is when that is safe, else in single quotes. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
