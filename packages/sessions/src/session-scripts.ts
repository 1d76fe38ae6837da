/**
 * The typed layer between the session manager and its Lua scripts: one method
 * per script, which packs KEYS and ARGV and decodes the reply into a named
 * object. The manager never touches `reply[5]`, and every script's time fields
 * come back in one order (created, last seen, expires, absolute expiry),
 * decoded in one place ({@link decodeTimes}), so a reordered reply cannot pass
 * unseen (a test checks each script's times against the timeouts).
 *
 * Shared keys: every script gets the manager's four bookkeeping keys (`EXP`
 * expiries, `SEEN` last seen, `BORN` creation times, `STATS` counters) after
 * its own keys; all carry the manager's hash tag, so on Cluster every script
 * runs in one slot.
 */
import type { StrataRedis, TimeBudget } from '@stratacache/core-client';
import { luaScripts } from './lua.generated.js';
import type { LimitPolicy } from './options.js';
import type { SessionStats, SessionTimes } from './types.js';

/** The keys every script shares: expiries, last seen, creation times, counters. */
export type SharedKeys = readonly [exp: string, seen: string, born: string, stats: string];

const str = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString() : String(v));
const num = (v: unknown): number => Number(str(v));

/** The four time fields at `at` of a reply: created, last seen, expires, absolute expiry (every script's order). */
export function decodeTimes(reply: readonly unknown[], at: number): SessionTimes {
  return {
    createdAt: num(reply[at]),
    lastSeenAt: num(reply[at + 1]),
    expiresAt: num(reply[at + 2]),
    absoluteExpiresAt: num(reply[at + 3]),
  };
}

/** What `read` found. */
export type ReadReply =
  | { readonly status: 'unknown' | 'expired' | 'ip-mismatch' | 'ua-mismatch' }
  | { readonly status: 'ok'; readonly value: Buffer; readonly times: SessionTimes; readonly version: string };

/** Arguments of `save`. */
export interface SaveRequest {
  /** The session's key and member (HMAC of its id). */
  key: string;
  member: string;
  /** The user's index key (a key that is never written, for an anonymous session). */
  indexKey: string;
  /** `'create'` must be new, `'upsert'` new or existing, `'update'` must exist. */
  mode: 'create' | 'upsert' | 'update';
  /** The sealed value. */
  value: Buffer;
  /** Idle timeout in ms; 0 keeps the stored one. */
  idleMs: number;
  absoluteMs: number;
  /** `Infinity` for no limit. */
  maxSessionsPerUser: number;
  onLimit: LimitPolicy;
  anonymous: boolean;
  /** Expected write counter, '' for any. */
  version: string;
  /** Binding tags of a new session ('' for none). */
  ipTag: string;
  uaTag: string;
}

/** What `save` did. */
export type SaveReply =
  | {
      readonly status: 'ok';
      readonly created: boolean;
      readonly times: SessionTimes;
      readonly evicted: number;
      readonly expired: number;
    }
  | { readonly status: 'rejected'; readonly expired: number }
  | { readonly status: 'exists' | 'unknown' | 'expired' | 'conflict' };

/** Arguments of `rename`. */
export interface RenameRequest {
  oldKey: string;
  newKey: string;
  oldMember: string;
  newMember: string;
  /** The value sealed for the new key. */
  value: Buffer;
  /** Expected write counter of the old session, '' for any. */
  version: string;
  /** Binding tags of the new session ('' keeps the old one). */
  ipTag: string;
  uaTag: string;
}

/** What `rename` did. */
export type RenameReply =
  | { readonly status: 'ok'; readonly times: SessionTimes }
  | { readonly status: 'expired' | 'unknown' | 'conflict' | 'exists' };

/** One live session as `list` returns it. */
export interface ListedSession {
  readonly member: string;
  readonly value: Buffer;
  readonly times: SessionTimes;
}

/** Upper bounds of the duration histogram in the Lua scripts: 1m, 5m, 15m, 1h, 4h, 24h. */
const DURATION_BUCKETS = [60_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000] as const;

/** The session scripts of one manager. */
export class SessionScripts {
  constructor(
    private readonly redis: StrataRedis,
    /** `prefix + member` is a session's key. */
    private readonly prefix: string,
    private readonly shared: SharedKeys,
  ) {
    // Loaded on every connection before its first command, so the first request pays no NOSCRIPT.
    redis.registerScripts(Object.values(luaScripts));
  }

  /**
   * The time budget every script of this view runs under (undefined: each
   * script gets its own `commandTimeout`). Set only on views from {@link within}.
   */
  readonly budget: TimeBudget | undefined = undefined;

  /**
   * These scripts under one time budget: what a verb of several scripts uses,
   * so it answers within one `commandTimeout`. A view sharing everything but
   * the budget; the budget is passed to each script explicitly, never through
   * an `AsyncLocalStorage` (which slows every promise of a Node 20 process).
   */
  within(budget: TimeBudget): SessionScripts {
    return Object.create(this, { budget: { value: budget } }) as SessionScripts;
  }

  /**
   * Reads a session; with `touch`, slides its idle timeout (to `idleMs` when
   * more than 0). A non-empty binding tag that does not match is a mismatch
   * (the session is neither touched nor returned).
   */
  async read(
    key: string,
    member: string,
    o: { touch: boolean; withValue: boolean; idleMs: number; ipTag: string; uaTag: string },
  ): Promise<ReadReply> {
    const reply = (await this.redis.runScript(
      luaScripts.sessionRead,
      [key, ...this.shared],
      [member, o.touch ? '1' : '0', o.withValue ? '1' : '0', o.idleMs, o.ipTag, o.uaTag],
      { buffers: true, budget: this.budget },
    )) as Buffer[];
    const status = str(reply[0]);
    if (status !== 'ok') return { status: status as 'unknown' | 'expired' | 'ip-mismatch' | 'ua-mismatch' };
    return { status, value: reply[1] as Buffer, times: decodeTimes(reply, 2), version: str(reply[6]) };
  }

  /** Creates or saves a session, applying the per-user limit in the same atomic step. */
  async save(r: SaveRequest): Promise<SaveReply> {
    const reply = (await this.redis.runScript(
      luaScripts.sessionSave,
      [r.key, r.indexKey, ...this.shared],
      [
        this.prefix,
        r.member,
        r.mode,
        r.value,
        r.idleMs,
        r.absoluteMs,
        // The script reads 0 as "no limit".
        Number.isFinite(r.maxSessionsPerUser) ? r.maxSessionsPerUser : 0,
        r.onLimit,
        r.anonymous ? '1' : '0',
        r.version,
        r.ipTag,
        r.uaTag,
      ],
      { budget: this.budget },
    )) as unknown[];
    const status = str(reply[0]);
    if (status === 'rejected') return { status, expired: num(reply[1]) };
    if (status !== 'ok') return { status: status as 'exists' | 'unknown' | 'expired' | 'conflict' };
    return {
      status,
      times: decodeTimes(reply, 1),
      evicted: num(reply[5]),
      expired: num(reply[6]),
      created: num(reply[7]) === 1,
    };
  }

  /** Moves a session to a new member, keeping its creation time, absolute expiry and user. */
  async rename(r: RenameRequest): Promise<RenameReply> {
    const reply = (await this.redis.runScript(
      luaScripts.sessionRename,
      [r.oldKey, r.newKey, ...this.shared],
      [r.oldMember, r.newMember, r.value, r.version, r.ipTag, r.uaTag],
      { budget: this.budget },
    )) as unknown[];
    const status = str(reply[0]);
    if (status !== 'ok') return { status: status as 'expired' | 'unknown' | 'conflict' | 'exists' };
    return { status, times: decodeTimes(reply, 1) };
  }

  /** Destroys one session; with `indexKey`, only if it belongs to that user. Resolves whether it did. */
  async destroy(key: string, member: string, indexKey = ''): Promise<boolean> {
    return (
      num(
        await this.redis.runScript(luaScripts.sessionDestroy, [key, ...this.shared], [member, indexKey], {
          budget: this.budget,
        }),
      ) === 1
    );
  }

  /** Destroys every session of a user's index except the `keep` members. */
  async destroyUser(indexKey: string, keep: readonly string[]): Promise<{ destroyed: number; expired: number }> {
    const [destroyed, expired] = (await this.redis.runScript(
      luaScripts.sessionDestroyUser,
      [indexKey, ...this.shared],
      [this.prefix, keep.join(',')],
      { budget: this.budget },
    )) as [unknown, unknown];
    return { destroyed: num(destroyed), expired: num(expired) };
  }

  /** The live sessions of a user's index (cleaning it of ended ones). */
  async list(indexKey: string): Promise<{ expired: number; sessions: ListedSession[] }> {
    const reply = (await this.redis.runScript(luaScripts.sessionList, [indexKey, ...this.shared], [this.prefix, '1'], {
      buffers: true,
      budget: this.budget,
    })) as [Buffer, ...Buffer[][]];
    const sessions = reply.slice(1).map((row) => {
      const fields = row as Buffer[];
      return { member: str(fields[0]), value: fields[1] as Buffer, times: decodeTimes(fields, 2) };
    });
    return { expired: num(reply[0]), sessions };
  }

  /** How many live sessions a user's index holds (cleaning it of ended ones). */
  async count(indexKey: string): Promise<{ expired: number; count: number }> {
    const reply = (await this.redis.runScript(luaScripts.sessionList, [indexKey, ...this.shared], [this.prefix, '0'], {
      budget: this.budget,
    })) as unknown[];
    return { expired: num(reply[0]), count: reply.length - 1 };
  }

  /** Sweeps up to `sweepLimit` sessions that expired unnoticed, then reads the counters and the duration histogram. */
  async stats(windowMs: number, sweepLimit: number): Promise<{ stats: SessionStats; expiredNow: number }> {
    const [active, recent, expiredNow, flat] = (await this.redis.runScript(
      luaScripts.sessionStats,
      this.shared,
      [this.prefix, windowMs, sweepLimit],
      { budget: this.budget },
    )) as [unknown, unknown, unknown, unknown[]];
    const counters = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) counters.set(str(flat[i]), num(flat[i + 1]));
    const get = (name: string) => counters.get(name) ?? 0;
    let cumulative = 0;
    const buckets = [...DURATION_BUCKETS, Number.POSITIVE_INFINITY].map((le) => {
      cumulative += get(`dur_le_${le === Number.POSITIVE_INFINITY ? 'inf' : le}`);
      return { le, count: cumulative };
    });
    const count = get('dur_count');
    const stats: SessionStats = {
      active: num(active),
      activeWithin: { windowMs, count: num(recent) },
      created: get('created'),
      destroyed: get('destroyed'),
      expired: get('expired'),
      evicted: get('evicted'),
      rejected: get('rejected'),
      regenerated: get('regenerated'),
      bindingMismatches: get('binding_mismatch'),
      durations: { count, sumMs: get('dur_sum'), averageMs: count === 0 ? 0 : get('dur_sum') / count, buckets },
    };
    return { stats, expiredNow: num(expiredNow) };
  }

  /**
   * The stored value of every live session, read in pipelined batches of 200
   * (not a script: a namespace can hold more sessions than one script should walk).
   */
  async liveValues(): Promise<{ member: string; value: Buffer }[]> {
    const [exp] = this.shared;
    const members = (await this.redis.run('zrangebyscore', (c) =>
      c.zrangebyscore(exp, `(${Date.now()}`, '+inf'),
    )) as string[];
    const out: { member: string; value: Buffer }[] = [];
    for (let i = 0; i < members.length; i += 200) {
      const chunk = members.slice(i, i + 200);
      const values = (await this.redis.run('hget', (c) => {
        const pipeline = c.pipeline();
        for (const m of chunk) pipeline.hgetBuffer(this.prefix + m, 'v');
        return pipeline.exec();
      })) as [Error | null, Buffer | null][];
      values.forEach(([error, value], j) => {
        if (!error && value) out.push({ member: chunk[j] as string, value });
      });
    }
    return out;
  }
}
