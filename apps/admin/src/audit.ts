/**
 * The audit log: every write action of the console (who, from where, what,
 * on which target, when), in a Redis Stream `{prefix}:admin:audit:log`, so
 * every instance of the console writes to one log and the time is the Redis
 * server's (the stream id). Capped with `XADD MAXLEN ~`.
 *
 * An action is recorded *before* it runs and is not run when the record
 * cannot be written (fail closed); a failed action adds a second entry with
 * its error, pointing at the first.
 */
import type { StrataRedis } from '@stratacache/core-client';

/** One action to record. */
export interface AuditRecord {
  /** The user name. */
  who: string;
  role: string;
  /** The client address. */
  ip: string;
  /** What was done, a fixed name (`key.delete`, `tag.invalidate`, `session.revoke`, ...). */
  action: string;
  /** What it was done to (a key, a tag, a user). */
  target: string;
  /** Anything else worth keeping (a new TTL, a count). */
  detail?: string;
}

/** An entry as read back. */
export interface AuditEntry extends AuditRecord {
  id: string;
  /** ms since the epoch, on the Redis clock (from the stream id). */
  at: number;
  /** `requested`, or `failed: <message>` for the follow-up of an action that failed. */
  result: string;
}

/** The audit log of one console. */
export class AuditLog {
  /** The stream's key. */
  readonly key: string;

  constructor(
    private readonly redis: StrataRedis,
    private readonly maxLength: number,
  ) {
    this.key = redis.keys('admin').key('audit', 'log');
  }

  private async add(record: AuditRecord, result: string): Promise<string> {
    const fields = [
      'who',
      record.who,
      'role',
      record.role,
      'ip',
      record.ip,
      'action',
      record.action,
      'target',
      record.target,
      'detail',
      record.detail ?? '',
      'result',
      result,
    ];
    const id = await this.redis.run('xadd', (c) => c.xadd(this.key, 'MAXLEN', '~', this.maxLength, '*', ...fields));
    return String(id);
  }

  /**
   * Records `record`, then runs `action`; when the record cannot be written the
   * action does not run (the error is thrown). A failing action is recorded again with its error.
   */
  async run<T>(record: AuditRecord, action: () => Promise<T>): Promise<T> {
    const id = await this.add(record, 'requested');
    try {
      return await action();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.add({ ...record, detail: `of ${id}` }, `failed: ${message}`).catch(() => {});
      throw error;
    }
  }

  /** The newest `count` entries, newest first. */
  async recent(count = 100): Promise<AuditEntry[]> {
    const reply = (await this.redis.run('xrevrange', (c) => c.xrevrange(this.key, '+', '-', 'COUNT', count))) as [
      string,
      string[],
    ][];
    return reply.map(([id, flat]) => {
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i] as string, flat[i + 1] as string);
      return {
        id,
        at: Number(id.split('-')[0]),
        who: f.get('who') ?? '',
        role: f.get('role') ?? '',
        ip: f.get('ip') ?? '',
        action: f.get('action') ?? '',
        target: f.get('target') ?? '',
        detail: f.get('detail') ?? '',
        result: f.get('result') ?? '',
      };
    });
  }
}
