/**
 * Heartbeats: workers report in, and anyone can ask who is alive and who went
 * quiet. Beats are stamped with the Redis server's clock, so hosts with
 * skewed clocks still compare fairly.
 */
import { type Duration, type StrataRedis, toMs } from '@stratacache/core-client';
import { diagnostics } from './diagnostics.js';
import { checkName, positiveMs, serverTimeMs } from './options.js';

/** Options of {@link createHeartbeats}. */
export interface HeartbeatsOptions {
  /** Key namespace. @default 'coord' */
  namespace?: string;
  /** Group of workers (one registry per group). @default 'workers' */
  group?: string;
  /** A worker is alive when it beat within this. @default '30s' */
  window?: Duration;
}

/** One worker's last beat. */
export interface WorkerBeat {
  workerId: string;
  /** Server time of the last beat, ms since the epoch. */
  lastBeatMs: number;
  meta: Record<string, unknown>;
}

/** Heartbeats of one group. */
export class Heartbeats {
  private readonly beatsKey: string;
  private readonly metaKey: string;
  private readonly windowMs: number;
  private readonly about: { namespace: string; group: string };

  constructor(
    private readonly redis: StrataRedis,
    options: HeartbeatsOptions = {},
  ) {
    const keys = redis.keys(options.namespace ?? 'coord');
    const group = options.group ?? 'workers';
    this.beatsKey = keys.key('hb', keys.tag(group), 'beats');
    this.metaKey = keys.key('hb', keys.tag(group), 'meta');
    this.windowMs = positiveMs(options.window ?? '30s', 'window');
    this.about = { namespace: keys.namespace, group };
  }

  /** Records a beat of `workerId`, with optional metadata (JSON). */
  async beat(workerId: string, meta: Record<string, unknown> = {}): Promise<void> {
    checkName(workerId, 'workerId');
    const now = await serverTimeMs(this.redis);
    await this.redis.run('beat', async (c) => {
      const results = await c
        .multi()
        .zadd(this.beatsKey, now, workerId)
        .hset(this.metaKey, workerId, JSON.stringify(meta))
        // The group's keys live while anyone beats: a fleet that is gone leaves nothing behind.
        .pexpire(this.beatsKey, Math.max(this.windowMs * 100, 86_400_000))
        .pexpire(this.metaKey, Math.max(this.windowMs * 100, 86_400_000))
        .exec();
      for (const [error] of results ?? []) if (error) throw error;
    });
    diagnostics.publish('heartbeat', this.about);
  }

  /** Workers that beat within `within` (default the window), newest first. */
  async alive(within?: Duration): Promise<WorkerBeat[]> {
    const since = (await serverTimeMs(this.redis)) - (within === undefined ? this.windowMs : toMs(within, 'within'));
    return this.range(`(${since}`, '+inf', true);
  }

  /** Workers whose last beat is older than `since` ago (default the window), oldest first. */
  async dead(since?: Duration): Promise<WorkerBeat[]> {
    const before = (await serverTimeMs(this.redis)) - (since === undefined ? this.windowMs : toMs(since, 'since'));
    const dead = await this.range('-inf', before, false);
    diagnostics.publish('heartbeatDead', { ...this.about, count: dead.length });
    return dead;
  }

  /** Forgets `workerId` (a worker that shut down cleanly). */
  async forget(workerId: string): Promise<void> {
    await this.redis.run('forget', (c) => c.multi().zrem(this.beatsKey, workerId).hdel(this.metaKey, workerId).exec());
  }

  private async range(min: string | number, max: string | number, newestFirst: boolean): Promise<WorkerBeat[]> {
    const flat = await this.redis.run('zrange', (c) =>
      newestFirst
        ? c.zrevrangebyscore(this.beatsKey, max, min, 'WITHSCORES')
        : c.zrangebyscore(this.beatsKey, min, max, 'WITHSCORES'),
    );
    const ids: string[] = [];
    const scores: number[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      ids.push(flat[i] as string);
      scores.push(Number(flat[i + 1]));
    }
    if (ids.length === 0) return [];
    const metas = await this.redis.run('hmget', (c) => c.hmget(this.metaKey, ...ids));
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
