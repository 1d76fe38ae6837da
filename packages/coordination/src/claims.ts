/**
 * Task claims for periodic work spread over a fleet (the Chomp seed):
 * `claimTask` takes a claim for a TTL or an interval, `ensureClaimTask` renews
 * it if ours, takes it if free, or names the other owner, and `probability`
 * lets only a share of the fleet even try, so the claim traffic stays small.
 */
import {
  assertWellFormed,
  check,
  luaScripts as coreScripts,
  type Duration,
  type StrataRedis,
} from '@stratacache/core-client';
import {
  type ClaimOptions,
  type ResolvedTaskClaimsOptions,
  resolveClaimOptions,
  resolveTaskClaimsOptions,
  type TaskClaimsOptions,
} from './claims-options.js';
import { diagnostics } from './diagnostics.js';
import { luaScripts } from './lua.generated.js';

export type { ClaimOptions, TaskClaimsOptions } from './claims-options.js';

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
  /** The resolved options (frozen). */
  readonly options: ResolvedTaskClaimsOptions;
  private readonly redis: StrataRedis;
  private readonly keys;

  constructor(redis: StrataRedis, options: TaskClaimsOptions = {}) {
    this.redis = check.strataRedis(redis, 'redis');
    this.options = resolveTaskClaimsOptions(options);
    this.keys = redis.keys(this.options.namespace);
    redis.registerScripts([luaScripts.claimEnsure, coreScripts.compareAndDelete]);
  }

  /** This process's owner id. */
  get owner(): string {
    return this.options.owner;
  }

  private key(id: string): string {
    return this.keys.key('claim', check.name(id, 'task id'));
  }

  /** Claims task `id` if nobody holds it. */
  async claimTask(id: string, options: ClaimOptions = {}): Promise<ClaimResult> {
    const { owner, probability, ttlMs } = resolveClaimOptions(options, this.options);
    const key = this.key(id);
    if (probability < 1 && Math.random() >= probability) {
      this.report('skipped', id);
      return { claimed: false, owner: null, skipped: true };
    }
    // SET NX GET (Redis 7): one command says whether we took it, and who holds it if not.
    const previous = (await this.redis.run('set', (c) => c.call('SET', key, owner, 'PX', ttlMs, 'NX', 'GET'))) as
      | string
      | null;
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
    const { owner, ttlMs } = resolveClaimOptions(options, this.options);
    const [status, holder] = (await this.redis.runScript(luaScripts.claimEnsure, [this.key(id)], [owner, ttlMs])) as [
      'renewed' | 'claimed' | 'held',
      string,
    ];
    this.report(status, id);
    return { status, owner: holder };
  }

  /** Releases the claim if ours; resolves whether it was. */
  async releaseClaim(id: string, owner = this.owner): Promise<boolean> {
    assertWellFormed(check.name(owner, 'owner'), 'owner');
    const released = (await this.redis.runScript(coreScripts.compareAndDelete, [this.key(id)], [owner])) === 1;
    this.report(released ? 'released' : 'not-owner', id);
    return released;
  }
}

/** Creates task claims for this process. */
export function createTaskClaims(redis: StrataRedis, options?: TaskClaimsOptions): TaskClaims {
  return new TaskClaims(redis, options);
}
