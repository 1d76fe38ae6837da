/**
 * Turns what ioredis throws into stratacache errors with a stable code and a
 * message that says what to change. Passwords never reach a message.
 */
import {
  ConfigError,
  ConnectionError,
  ReadError,
  ScriptError,
  StratacacheError,
  TimeoutError,
  WriteError,
} from './errors.js';
import { redactSecret } from './redact.js';

/** Commands whose failure is a write failure (others are reads). */
const READ_COMMANDS = new Set([
  'get',
  'mget',
  'getbuffer',
  'mgetbuffer',
  'exists',
  'ttl',
  'pttl',
  'type',
  'scan',
  'sscan',
  'hscan',
  'zscan',
  'hget',
  'hmget',
  'hgetall',
  'smembers',
  'sismember',
  'zrange',
  'zscore',
  'lrange',
  'llen',
  'scard',
  'zcard',
  'strlen',
  'info',
  'ping',
  'dbsize',
  'xrange',
  'xrevrange',
  'xread',
  'keys',
  'getmany',
  'zcount',
  'time',
  'zrange',
  'zrangebyscore',
  'zrevrangebyscore',
  'health',
]);

/** Maps `error` (from command `command`) to a {@link StratacacheError}. */
export function mapRedisError(error: unknown, command = 'command', password?: string): StratacacheError {
  if (StratacacheError.isInstance(error)) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const message = redactSecret(raw, password);
  const name = error instanceof Error ? error.name : '';
  const code = (error as { code?: string } | null)?.code;
  const context = { command };
  const cause = error;

  if (/command timed out/i.test(message)) {
    return new TimeoutError(
      `Redis did not answer ${command} within the command timeout; the outcome is unknown (it may have been applied). Raise commandTimeout if Redis is slow, or check that it is up.`,
      { cause, context },
    );
  }
  if (/WRONGPASS|invalid username-password|NOAUTH|AUTH .*failed|without any password configured/i.test(message)) {
    return new ConfigError(
      `Redis refused the credentials: ${message}. Check the username and password options (REDIS_USERNAME, REDIS_PASSWORD or the URL).`,
      { cause, context },
    );
  }
  if (/NOPERM/i.test(message)) {
    return new ConfigError(
      `The Redis ACL user may not run ${command}: ${message}. Grant it in the ACL rules of the user.`,
      {
        cause,
        context,
      },
    );
  }
  // Replies that mean "this server cannot serve you right now": availability, like a dropped connection.
  if (/^(READONLY|LOADING|CLUSTERDOWN|MASTERDOWN|BUSY|TRYAGAIN)\b/.test(message)) {
    return new ConnectionError(
      `Redis cannot serve ${command} right now (${message}); it is loading, failing over or busy. Retry later.`,
      { cause, context },
    );
  }
  if (
    name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|EPIPE|ENOENT|socket|offline queue|max retries per request|All sentinels are unreachable|Failed to refresh slots cache|Cluster isn't ready/i.test(
      message,
    ) ||
    (code !== undefined && /^E(CONN|HOST|NET|PIPE|TIMEDOUT|NOENT|AI_AGAIN)/.test(code))
  ) {
    return new ConnectionError(
      `Redis is unreachable (${message}) while running ${command}. Check that Redis is up and the URL or host is right; commands fail fast instead of waiting.`,
      { cause, context },
    );
  }
  if (/NOSCRIPT|ERR Error running script|ERR user_script|script:|Lua/i.test(message)) {
    return new ScriptError(`Redis script failed in ${command}: ${message}`, { cause, context });
  }
  const lower = command.toLowerCase();
  if (READ_COMMANDS.has(lower)) return new ReadError(`Redis ${command} failed: ${message}`, { cause, context });
  return new WriteError(`Redis ${command} failed: ${message}`, { cause, context });
}
