/**
 * Turns what ioredis throws into stratacache errors with a stable code and a
 * message that says where (the address), what happened (refused, timed out,
 * credentials, TLS, database index, closed client), whether the command may
 * have run, and what to change. Passwords never reach a message.
 */
import { wasNotSent } from './command-guard.js';
import {
  type ConnectionFacts,
  classifyConnectionError,
  describeFailure,
  type FailureKind,
  kindWhileNotConnected,
  outcomeOf,
} from './connection-failure.js';
import {
  ClientClosedError,
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

/** What the client knows when a command fails; without it messages stay generic. */
export interface MappingContext {
  /** Kept out of every message. */
  password?: string;
  /** Address, stage and last connection failure. */
  facts?: ConnectionFacts;
  /** Every command of this connection is tracked: an error not marked "not sent" belongs to a sent command. */
  tracked?: boolean;
  /** The client was closed with close(). */
  closed?: boolean;
  /** The time budget the command ran under, in ms (`redis.budget()`), if any. */
  budgetMs?: number;
}

const UNKNOWN_FACTS: ConnectionFacts = Object.freeze({
  address: '(the configured address)',
  tls: false,
  stage: 'ready',
  lastFailure: undefined,
  connectTimeoutMs: 0,
  commandTimeoutMs: 0,
  db: 0,
  username: undefined,
});

/** Errors that concern the connection rather than one command's reply. */
const CONNECTION_LEVEL =
  /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|EPIPE|ENOENT|socket|offline queue|max retries per request|All sentinels are unreachable|Failed to refresh slots cache|Cluster isn't ready|None of startup nodes|Command aborted due to connection close|certificate|TLS|SSL/i;

/**
 * Maps `error` (from command `command`) to a {@link StratacacheError} whose
 * message names the address, what happened and whether the command may have
 * run. `context` is the client's knowledge; a string is taken as the password
 * (kept out of the message), for callers without a client.
 */
export function mapRedisError(
  error: unknown,
  command = 'command',
  context: string | MappingContext = {},
): StratacacheError {
  if (StratacacheError.isInstance(error)) return error;
  const ctx: MappingContext = typeof context === 'string' ? { password: context } : context;
  const facts = ctx.facts ?? UNKNOWN_FACTS;
  const raw = error instanceof Error ? error.message : String(error);
  const message = redactSecret(raw, ctx.password);
  const name = error instanceof Error ? error.name : '';
  const code = (error as { code?: string } | null)?.code;
  const notSent = wasNotSent(error);
  const sent = notSent ? false : ctx.tracked ? true : undefined;
  const cause = error;
  const base = { command, address: facts.address, sent };
  const connectionLevel =
    name === 'MaxRetriesPerRequestError' ||
    CONNECTION_LEVEL.test(message) ||
    (code !== undefined && /^E(CONN|HOST|NET|PIPE|TIMEDOUT|NOENT|AI_AGAIN)/.test(code));

  if (ctx.closed && (notSent || connectionLevel)) {
    return new ClientClosedError(`${describeFailure('closed', facts)} ${outcomeOf(command, sent)}`, {
      cause,
      context: { ...base, kind: 'closed' },
    });
  }
  if (/^Time budget exhausted/.test(message)) {
    return new TimeoutError(
      `The time budget${ctx.budgetMs === undefined ? '' : ` of ${ctx.budgetMs} ms`} ran out before ${command} could be sent to ${facts.address}: earlier commands of the same call used it up. ${outcomeOf(command, false)}`,
      { cause, context: { ...base, sent: false, kind: 'budget' } },
    );
  }
  if (/maxOfflineQueue/.test(message)) {
    return new ConnectionError(message, { cause, context: { ...base, sent: false, kind: 'queue-full' } });
  }
  if (/command timed out/i.test(message)) {
    if (notSent) {
      const kind = kindWhileNotConnected(facts) ?? 'no-answer';
      return connectionFailure(kind, facts, facts.lastFailure?.detail, command, false, cause);
    }
    const limit =
      ctx.budgetMs !== undefined && ctx.budgetMs < facts.commandTimeoutMs
        ? `its time budget (${ctx.budgetMs} ms)`
        : `commandTimeout${facts.commandTimeoutMs ? ` (${facts.commandTimeoutMs} ms)` : ''}`;
    return new TimeoutError(
      `Redis at ${facts.address} did not answer ${command} within ${limit} (timed out). ${outcomeOf(command, sent ?? true)} Raise commandTimeout if Redis is slow, or check that it is up.`,
      { cause, context: { ...base, sent: sent ?? true, kind: 'timeout' } },
    );
  }
  const classified = classifyConnectionError(error, ctx.password);
  if (classified?.kind === 'auth' || classified?.kind === 'db') {
    return connectionFailure(classified.kind, facts, classified.detail, command, false, cause);
  }
  if (/NOPERM/i.test(message)) {
    return new ConfigError(
      `The Redis ACL user${facts.username ? ` '${facts.username}'` : ''} may not run ${command} on ${facts.address}: ${message}. Grant it in the ACL rules of the user.`,
      { cause, context: { ...base, sent: true, kind: 'noperm' } },
    );
  }
  // ioredis retried a command through MOVED/ASK/TRYAGAIN/CLUSTERDOWN/closed connections until its
  // redirections ran out: a slot moving or a master failing over that did not settle in time.
  if (/^Too many Cluster redirections/.test(message) || /^(MOVED|ASK) \d+ /.test(message)) {
    const last = /Last error: (?:\w*Error: )?(.*)$/.exec(message)?.[1] ?? message;
    return new ConnectionError(
      `Redis Cluster at ${facts.address} could not serve ${command} while a slot moved or a master failed over (last reply: ${last}); it was retried until its redirections ran out. ${outcomeOf(command, sent)} Retry later.`,
      { cause, context: { ...base, kind: 'failover' } },
    );
  }
  // Replies that mean "this server cannot serve you right now": availability, like a dropped connection.
  if (/^(READONLY|LOADING|CLUSTERDOWN|MASTERDOWN|BUSY|TRYAGAIN)\b/.test(message)) {
    return new ConnectionError(
      `Redis at ${facts.address} cannot serve ${command} right now (${message}); it is loading, failing over or busy, and refused it, so it did not run. Retry later.`,
      { cause, context: { ...base, sent: true, kind: 'unavailable' } },
    );
  }
  if (connectionLevel || classified) {
    const known = classified ?? facts.lastFailure;
    const kind = known?.kind ?? kindWhileNotConnected(facts) ?? 'reset';
    const detail = classified ? classified.detail : (facts.lastFailure?.detail ?? message);
    return connectionFailure(kind, facts, detail, command, sent, cause);
  }
  if (/NOSCRIPT|ERR Error running script|ERR user_script|script:|Lua/i.test(message)) {
    return new ScriptError(`Redis script failed in ${command}: ${message}`, { cause, context: { command } });
  }
  const lower = command.toLowerCase();
  if (READ_COMMANDS.has(lower))
    return new ReadError(`Redis ${command} failed: ${message}`, { cause, context: { command } });
  return new WriteError(`Redis ${command} failed: ${message}`, { cause, context: { command } });
}

/** The error for a connection failure of `kind`: ConfigError for credentials and database index, else ConnectionError. */
export function connectionFailure(
  kind: FailureKind,
  facts: ConnectionFacts,
  detail: string | undefined,
  command: string | undefined,
  sent: boolean | undefined,
  cause?: unknown,
): StratacacheError {
  const text = `${describeFailure(kind, facts, detail)}${command === undefined ? '' : ` ${outcomeOf(command, sent)}`}`;
  const context = { command, address: facts.address, kind, sent };
  if (kind === 'closed') return new ClientClosedError(text, { cause, context });
  return kind === 'auth' || kind === 'db'
    ? new ConfigError(text, { cause, context })
    : new ConnectionError(text, { cause, context });
}
