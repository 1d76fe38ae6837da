/**
 * The `stratacache` command: parses the arguments (`node:util` parseArgs),
 * connects with core-client's `createRedis()` (so REDIS_URL, REDIS_HOST,
 * REDIS_NS, REDIS_SENTINELS, REDIS_CLUSTER_NODES ... mean what they mean to
 * the library), runs one command and prints a table, or JSON with `--json`.
 *
 * Exit codes: 0 done, 1 a failure (Redis unreachable, an unhealthy health
 * check, a command error), 2 a usage error.
 */
import { parseArgs } from 'node:util';
import { createRedis, StratacacheError, type StrataRedis } from '@stratacache/core-client';
import { health } from './commands/health.js';
import { cacheEntryKey, inspect, inspectFields } from './commands/inspect.js';
import { invalidate } from './commands/invalidate.js';
import { resetLimit, showLimit } from './commands/limits.js';
import { listLocks } from './commands/locks.js';
import { scan } from './commands/scan.js';
import { listSessions, sessionManager } from './commands/sessions.js';
import { type Io, UsageError } from './io.js';
import { fields, plain, table, ttl } from './output.js';

/** The help text. */
export const USAGE = `Usage: stratacache <command> [options]

Commands:
  inspect <key>                          what a key holds: Cache entry header, envelope, value
  inspect --cache <namespace> <key>      the Cache entry of <key> in a cache namespace
  scan <namespace> [--kind <kind>]       keys of a namespace with type and TTL (--limit, default 1000)
  invalidate --namespace <cache> --tag <tag> [--tag <tag> ...] [--dry-run]
  invalidate --namespace <cache> --key-prefix <p> [--dry-run]
                                         as the Cache does: Redis and every instance's memory tier
  sessions list <userId> [--data]        a user's sessions (needs SESSION_SECRET)
  sessions revoke <userId> <ref>         log out one session (a ref from "sessions list")
  sessions revoke <userId> --all         log out every session of the user
  sessions stats                         active sessions and counters
  locks list                             locks held now, with TTL and fencing token
  limits show <limiter> <id>             a rate limiter's state for one id (ip:203.0.113.7, user:42)
  limits reset <limiter> <id>            forget it (and any penalty)
  health                                 PING, INFO and warnings; exit 1 when not ok

Options:
  --json                 JSON output
  --url <url>            Redis URL (default: REDIS_URL, REDIS_HOST/REDIS_PORT, ... as the library reads them)
  --prefix <prefix>      key prefix (default: REDIS_NS, else "strata")
  --namespace <name>     the namespace of sessions (sessions), locks (coord), limits (ratelimit), caches
  -h, --help             this text
`;

const OPTIONS = {
  json: { type: 'boolean' },
  url: { type: 'string' },
  prefix: { type: 'string' },
  namespace: { type: 'string' },
  cache: { type: 'string' },
  kind: { type: 'string' },
  limit: { type: 'string' },
  tag: { type: 'string', multiple: true },
  'key-prefix': { type: 'string' },
  'dry-run': { type: 'boolean' },
  'tag-mode': { type: 'string' },
  data: { type: 'boolean' },
  all: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  return parseArgs({ args: refsAsPositionals(argv), options: OPTIONS, allowPositionals: true, strict: true });
}

/**
 * A session ref is 43 base64url characters and may start with `-`, which an argument parser
 * reads as an option: such a token is moved behind `--`, so `sessions revoke ada -Yx...` works.
 */
function refsAsPositionals(argv: string[]): string[] {
  const refs = argv.filter((arg) => /^-[A-Za-z0-9_-]{42}$/.test(arg));
  if (refs.length === 0 || argv.includes('--')) return argv;
  return [...argv.filter((arg) => !refs.includes(arg)), '--', ...refs];
}

/** Runs the command of `argv` (without `node` and the script); resolves the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    io.out(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  let redis: StrataRedis | undefined;
  try {
    redis = connect(values, io.env);
    return await dispatch(command, rest, values, redis, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\nRun "stratacache --help" for the commands.`);
      return 2;
    }
    const code = StratacacheError.isInstance(error) ? ` (${error.code})` : '';
    io.err(`stratacache ${command}: ${(error as Error).message}${code}`);
    return 1;
  } finally {
    await redis?.close().catch(() => {});
  }
}

function connect(values: Values, env: Record<string, string | undefined>): StrataRedis {
  return createRedis({
    env,
    ...(values.url ? { url: values.url } : {}),
    ...(values.prefix ? { prefix: values.prefix } : {}),
    connectionName: 'stratacache-cli',
  });
}

async function dispatch(command: string, args: string[], values: Values, redis: StrataRedis, io: Io): Promise<number> {
  const print = (data: unknown, text: () => string) =>
    io.out(values.json ? JSON.stringify(plain(data), null, 2) : text());
  switch (command) {
    case 'inspect': {
      const key =
        values.cache !== undefined
          ? cacheEntryKey(redis, values.cache, need(args[0], 'inspect --cache <namespace> <key>'))
          : need(args[0], 'inspect <key>');
      const report = await inspect(redis, key);
      print(report, () => fields(inspectFields(report)));
      return report.exists ? 0 : 1;
    }
    case 'scan': {
      const namespace = need(args[0], 'scan <namespace>');
      const limit = values.limit === undefined ? 1000 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError(`--limit must be a positive integer; got ${values.limit}`);
      const found = await scan(redis, namespace, { ...(values.kind ? { kind: values.kind } : {}), limit });
      print(found, () => {
        const rows = found.keys.map((k) => ({ key: k.key, type: k.type, ttl: ttl(k.ttlMs) }));
        return `${table(rows, ['key', 'type', 'ttl'])}${found.truncated ? `\n(first ${limit} keys; --limit for more)` : ''}`;
      });
      return 0;
    }
    case 'invalidate':
      return invalidateCommand(values, redis, print);
    case 'sessions':
      return sessionsCommand(args, values, redis, io, print);
    case 'locks': {
      if (args[0] !== 'list') throw new UsageError('locks list [--namespace coord]');
      const locks = await listLocks(redis, values.namespace ?? 'coord');
      print(locks, () =>
        table(
          locks.map((l) => ({ name: l.name, holder: l.holder, ttl: ttl(l.ttlMs), fence: l.fence })),
          ['name', 'holder', 'ttl', 'fence'],
        ),
      );
      return 0;
    }
    case 'limits': {
      const [verb, limiter, id] = args;
      if ((verb !== 'show' && verb !== 'reset') || !limiter || !id) {
        throw new UsageError('limits show|reset <limiter> <id> [--namespace ratelimit]');
      }
      const namespace = values.namespace ?? 'ratelimit';
      if (verb === 'show') {
        const state = await showLimit(redis, namespace, limiter, id);
        print(state, () => fields({ ...state, ttl: ttl(state.ttlMs), ttlMs: undefined }));
      } else {
        const removed = await resetLimit(redis, namespace, limiter, id);
        print({ limiter, id, removed }, () => `${removed > 0 ? 'reset' : 'nothing to reset'}: ${limiter} ${id}`);
      }
      return 0;
    }
    case 'health': {
      const report = await health(redis);
      print(report, () => {
        const head = fields({
          ok: report.ok,
          latency: report.latencyMs === null ? '-' : `${report.latencyMs.toFixed(1)} ms`,
          mode: report.mode,
          warnings: report.warnings.length > 0 ? report.warnings.join('; ') : 'none',
        });
        return `${head}\n\n${table(report.nodes as unknown as Record<string, unknown>[])}`;
      });
      return report.ok ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

async function invalidateCommand(
  values: Values,
  redis: StrataRedis,
  print: (data: unknown, text: () => string) => void,
): Promise<number> {
  const namespace = values.namespace ?? values.cache;
  const tags = values.tag ?? [];
  const prefix = values['key-prefix'];
  if (!namespace)
    throw new UsageError(
      'invalidate needs --namespace <cache namespace> (the Cache\'s namespace option, default "cache")',
    );
  if (tags.length > 0 === (prefix !== undefined)) {
    throw new UsageError('invalidate takes --tag <tag> (repeatable) or --key-prefix <prefix>, one of the two');
  }
  const tagMode = values['tag-mode'];
  if (tagMode !== undefined && tagMode !== 'eager' && tagMode !== 'lazy')
    throw new UsageError('--tag-mode is eager or lazy');
  const report = await invalidate(redis, {
    namespace,
    tags,
    ...(prefix !== undefined ? { prefix } : {}),
    dryRun: values['dry-run'] ?? false,
    ...(tagMode ? { tagMode } : {}),
  });
  print(report, () => {
    const what = `${report.by} ${report.targets.join(', ')} in ${report.namespace}`;
    if (report.dryRun)
      return `dry run: ${report.matched} entr${report.matched === 1 ? 'y' : 'ies'} match ${what}; nothing changed`;
    return `invalidated ${what}: ${report.deleted ?? report.matched} entr${(report.deleted ?? report.matched) === 1 ? 'y' : 'ies'}, and every instance's memory tier told`;
  });
  return 0;
}

async function sessionsCommand(
  args: string[],
  values: Values,
  redis: StrataRedis,
  io: Io,
  print: (data: unknown, text: () => string) => void,
): Promise<number> {
  const [verb, userId, ref] = args;
  const manager = sessionManager(redis, values.namespace ?? 'sessions', io.env);
  if (verb === 'list') {
    const sessions = await listSessions(manager, need(userId, 'sessions list <userId>'), values.data ?? false);
    print(sessions, () => table(sessions));
    return 0;
  }
  if (verb === 'revoke') {
    const user = need(userId, 'sessions revoke <userId> <ref>|--all');
    if (values.all) {
      const count = await manager.destroyAllForUser(user);
      print({ userId: user, revoked: count }, () => `revoked ${count} session(s) of ${user}`);
      return 0;
    }
    const done = await manager.revoke(user, need(ref, 'sessions revoke <userId> <ref>'));
    print({ userId: user, ref, revoked: done ? 1 : 0 }, () =>
      done ? `revoked ${ref}` : `no session ${ref} of ${user}`,
    );
    return done ? 0 : 1;
  }
  if (verb === 'stats') {
    const stats = await manager.stats();
    print(stats, () => fields(plain(stats) as Record<string, unknown>));
    return 0;
  }
  throw new UsageError('sessions list|revoke|stats');
}

function need(value: string | undefined, usage: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing argument: ${usage}`);
  return value;
}
