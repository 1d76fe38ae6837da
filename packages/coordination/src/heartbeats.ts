/**
 * Heartbeats: workers report in, and anyone can ask who is alive and who went
 * quiet. Beats are stamped with the Redis server's clock, so hosts with
 * skewed clocks still compare fairly.
 */
import { assertWellFormed, check, type Duration, type StrataRedis, type TimeBudget } from '@stratacache/core-client';
import { diagnostics } from './diagnostics.js';
import {
  type HeartbeatsOptions,
  type ResolvedHeartbeatsOptions,
  resolveHeartbeatsOptions,
} from './heartbeats-options.js';
import { serverTimeMs } from './time.js';

export type { HeartbeatsOptions } from './heartbeats-options.js';

/** One worker's last beat. */
export interface WorkerBeat {
  workerId: string;
  /** Server time of the last beat, ms since the epoch. */
  lastBeatMs: number;
  meta: Record<string, unknown>;
}

/** Heartbeats of one group. */
export class Heartbeats {
  /** The resolved options (frozen). */
  readonly options: ResolvedHeartbeatsOptions;
  private readonly redis: StrataRedis;
  private readonly beatsKey: string;
  private readonly metaKey: string;
  private readonly windowMs: number;
  private readonly about: { namespace: string; group: string };

  constructor(redis: StrataRedis, options: HeartbeatsOptions = {}) {
    this.redis = check.strataRedis(redis, 'redis');
    this.options = resolveHeartbeatsOptions(options);
    const keys = redis.keys(this.options.namespace);
    const group = this.options.group;
    this.beatsKey = keys.key('hb', keys.tag(group), 'beats');
    this.metaKey = keys.key('hb', keys.tag(group), 'meta');
    this.windowMs = this.options.windowMs;
    this.about = { namespace: keys.namespace, group };
  }

  /** Records a beat of `workerId`, with optional metadata (JSON). */
  async beat(workerId: string, meta: Record<string, unknown> = {}): Promise<void> {
    // A member, not a key, but UTF-8 would merge two ill-formed ids all the same.
    assertWellFormed(check.name(workerId, 'workerId'), 'workerId');
    check.object(meta, 'meta');
    // TIME, then the write: one commandTimeout for both.
    const budget = this.redis.budget();
    const now = await serverTimeMs(this.redis, budget);
    await this.redis.run(
      'beat',
      async (c) => {
        const results = await c
          .multi()
          .zadd(this.beatsKey, now, workerId)
          .hset(this.metaKey, workerId, JSON.stringify(meta))
          // The group's keys live while anyone beats: a fleet that is gone leaves nothing behind.
          .pexpire(this.beatsKey, Math.max(this.windowMs * 100, 86_400_000))
          .pexpire(this.metaKey, Math.max(this.windowMs * 100, 86_400_000))
          .exec();
        for (const [error] of results ?? []) if (error) throw error;
      },
      { budget },
    );
    diagnostics.publish('heartbeat', this.about);
  }

  /** Workers that beat within `within` (default the window), newest first. */
  async alive(within?: Duration): Promise<WorkerBeat[]> {
    const windowMs = within === undefined ? this.windowMs : check.nonNegativeDuration(within, 'within');
    // TIME, the range, the metadata: one commandTimeout for the three.
    const budget = this.redis.budget();
    return this.range(`(${(await serverTimeMs(this.redis, budget)) - windowMs}`, '+inf', true, budget);
  }

  /** Workers whose last beat is older than `since` ago (default the window), oldest first. */
  async dead(since?: Duration): Promise<WorkerBeat[]> {
    const windowMs = since === undefined ? this.windowMs : check.nonNegativeDuration(since, 'since');
    const budget = this.redis.budget();
    const dead = await this.range('-inf', (await serverTimeMs(this.redis, budget)) - windowMs, false, budget);
    diagnostics.publish('heartbeatDead', { ...this.about, count: dead.length });
    return dead;
  }

  /** Forgets `workerId` (a worker that shut down cleanly). */
  async forget(workerId: string): Promise<void> {
    assertWellFormed(check.name(workerId, 'workerId'), 'workerId');
    await this.redis.run('forget', (c) => c.multi().zrem(this.beatsKey, workerId).hdel(this.metaKey, workerId).exec());
  }

  private async range(
    min: string | number,
    max: string | number,
    newestFirst: boolean,
    budget: TimeBudget,
  ): Promise<WorkerBeat[]> {
    const flat = await this.redis.run(
      'zrange',
      (c) =>
        newestFirst
          ? c.zrevrangebyscore(this.beatsKey, max, min, 'WITHSCORES')
          : c.zrangebyscore(this.beatsKey, min, max, 'WITHSCORES'),
      { budget },
    );
    const ids: string[] = [];
    const scores: number[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      ids.push(flat[i] as string);
      scores.push(Number(flat[i + 1]));
    }
    if (ids.length === 0) return [];
    const metas = await this.redis.run('hmget', (c) => c.hmget(this.metaKey, ...ids), { budget });
    return ids.map((workerId, i) => ({
      workerId,
      lastBeatMs: scores[i] as number,
      meta: metas[i] ? (JSON.parse(metas[i] as string) as Record<string, unknown>) : {},
    }));
  }
}

/** Creates heartbeats for a group of workers. */
export function createHeartbeats(redis: StrataRedis, options?: HeartbeatsOptions): Heartbeats {
  return new Heartbeats(redis, options);
}
