/**
 * Task claims for periodic work spread over a fleet (the Chomp seed):
 * `claimTask` takes a claim for a TTL or an interval, `ensureClaimTask` renews
 * it if ours, takes it if free, or names the other owner, and `probability`
 * lets only a share of the fleet even try, so the claim traffic stays small.
 */
import { luaScripts as coreScripts, type Duration, type StrataRedis } from '@stratacache/core-client';
import { diagnostics } from './diagnostics.js';
import { luaScripts } from './lua.generated.js';
import { checkName, fraction, positiveMs } from './options.js';
import { processId } from './process-id.js';

/** Options of {@link createTaskClaims}. */
export interface TaskClaimsOptions {
  /** Key namespace. @default 'coord' */
  namespace?: string;
  /** Who claims. @default host:pid:random of this process */
  owner?: string;
  /** TTL of a claim when a call gives none. @default '1m' */
  ttl?: Duration;
}

/** Options of `claimTask`. */
export interface ClaimOptions {
  /** How long the claim lives. */
  ttl?: Duration;
  /** For periodic tasks: claim for one period (same as ttl). */
  interval?: Duration;
  /** Claim as this owner instead of the default. */
  owner?: string;
  /** Try only with this chance (0-1), to spread periodic work over a fleet. @default 1 */
  probability?: number;
}

/** Result of `claimTask`. */
export interface ClaimResult {
  claimed: boolean;
  /** Who holds it now (us or another); null when `probability` skipped the attempt (Redis was not asked). */
  owner: string | null;
  /** True when `probability` decided not to try. */
  skipped: boolean;
}

/** Task claims. */
export class TaskClaims {
  private readonly keys;
  /** This process's owner id. */
  readonly owner: string;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: StrataRedis,
    options: TaskClaimsOptions = {},
  ) {
    this.keys = redis.keys(options.namespace ?? 'coord');
    this.owner = options.owner ?? processId();
    this.ttlMs = positiveMs(options.ttl ?? '1m', 'ttl');
  }

  private key(id: string): string {
    return this.keys.key('claim', checkName(id, 'task id'));
  }

  private ttl(options: { ttl?: Duration; interval?: Duration }): number {
    if (options.ttl !== undefined) return positiveMs(options.ttl, 'ttl');
    if (options.interval !== undefined) return positiveMs(options.interval, 'interval');
    return this.ttlMs;
  }

  /** Claims task `id` if nobody holds it. */
  async claimTask(id: string, options: ClaimOptions = {}): Promise<ClaimResult> {
    const owner = options.owner ?? this.owner;
    const probability = fraction(options.probability ?? 1, 'probability');
    const key = this.key(id);
    if (probability < 1 && Math.random() >= probability) {
      this.report('skipped', id);
      return { claimed: false, owner: null, skipped: true };
    }
    // SET NX GET (Redis 7): one command says whether we took it, and who holds it if not.
    const previous = (await this.redis.run('set', (c) =>
      c.call('SET', key, owner, 'PX', this.ttl(options), 'NX', 'GET'),
    )) as string | null;
    this.report(previous === null ? 'claimed' : 'held', id);
    if (previous === null) return { claimed: true, owner, skipped: false };
    return { claimed: false, owner: previous, skipped: false };
  }

  private report(result: 'claimed' | 'held' | 'skipped' | 'renewed' | 'released' | 'not-owner', task: string): void {
    diagnostics.publish('claim', { namespace: this.keys.namespace, result, task });
  }

  /** Whether task `id` is claimed, by whom, and for how much longer. */
  async isTaskClaimed(id: string): Promise<{ claimed: boolean; owner: string | null; ttlMs: number | null }> {
    const key = this.key(id);
    const [owner, ttl] = await this.redis.run('get', async (c) => Promise.all([c.get(key), c.pttl(key)]));
    return { claimed: owner !== null, owner, ttlMs: owner !== null && ttl > 0 ? ttl : null };
  }

  /** Renews the claim if ours, takes it if free, or reports the other owner. */
  async ensureClaimTask(
    id: string,
    options: { ttl?: Duration; interval?: Duration; owner?: string } = {},
  ): Promise<{ status: 'renewed' | 'claimed' | 'held'; owner: string }> {
    const owner = options.owner ?? this.owner;
    const [status, holder] = (await this.redis.runScript(
      luaScripts.claimEnsure,
      [this.key(id)],
      [owner, this.ttl(options)],
    )) as ['renewed' | 'claimed' | 'held', string];
    this.report(status, id);
    return { status, owner: holder };
  }

  /** Releases the claim if ours; resolves whether it was. */
  async releaseClaim(id: string, owner = this.owner): Promise<boolean> {
    const released = (await this.redis.runScript(coreScripts.compareAndDelete, [this.key(id)], [owner])) === 1;
    this.report(released ? 'released' : 'not-owner', id);
    return released;
  }
}

/** Creates task claims for this process. */
export function createTaskClaims(redis: StrataRedis, options?: TaskClaimsOptions): TaskClaims {
  return new TaskClaims(redis, options);
}
