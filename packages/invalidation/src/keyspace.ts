/**
 * Keyspace notifications: when Redis expires or evicts a key, drop it from the
 * local tiers too, so a memory tier never outlives the Redis entry it copies.
 *
 * Redis sends these only when `notify-keyspace-events` enables them. This
 * module changes that server setting only when the caller allows it
 * (`allowConfig: true`); otherwise it checks and says what to enable.
 */
import { ConfigError, check, failOption, type StrataRedis } from '@stratacache/core-client';
import type { LocalTarget } from './targets.js';

/** Options of {@link listenToKeyspace}. */
export interface KeyspaceOptions {
  /** Keys of this cache namespace only (`{prefix}:{namespace}:`). */
  namespace: string;
  /** Targets to tell. */
  targets: LocalTarget[];
  /** May this call run `CONFIG SET notify-keyspace-events`? @default false */
  allowConfig?: boolean;
}

/** Checks the options of {@link listenToKeyspace}; a bad one throws `ConfigError` naming it. */
export function resolveKeyspaceOptions(options: KeyspaceOptions): Readonly<Required<KeyspaceOptions>> {
  const o = check.object<KeyspaceOptions>(options, 'options');
  if (!Array.isArray(o.targets)) failOption('targets', 'must be an array of local tiers (LocalTarget)', o.targets);
  o.targets.forEach((target, i) => {
    if (typeof target?.clearLocal !== 'function') failOption(`targets[${i}]`, 'must have clearLocal()', target);
  });
  return Object.freeze({
    namespace: check.namespace(o.namespace, 'namespace'),
    targets: o.targets,
    allowConfig: check.boolean(o.allowConfig ?? false, 'allowConfig'),
  });
}

/** Flags needed: K/E keyevent class (E), expired (x), evicted (e). */
const NEEDED = ['E', 'x', 'e'];

function missingFlags(current: string): string[] {
  // 'A' is an alias that includes x and e.
  return NEEDED.filter((flag) => !(current.includes(flag) || (flag !== 'E' && current.includes('A'))));
}

/**
 * Subscribes to expired and evicted key events of the client's database and
 * forwards the namespace's keys to `targets` (`deleteLocal`). Resolves a
 * function that stops listening. Standalone and Sentinel only: on Cluster each
 * node sends its own events, which this does not gather (it throws).
 */
export async function listenToKeyspace(redis: StrataRedis, options: KeyspaceOptions): Promise<() => Promise<void>> {
  check.strataRedis(redis, 'redis');
  resolveKeyspaceOptions(options);
  if (redis.mode === 'cluster') {
    throw new ConfigError(
      'Keyspace notifications are per node on Redis Cluster and are not gathered here; rely on TTLs and the bus instead.',
    );
  }
  const [, current = ''] = (await redis.run('config', (c) => c.config('GET', 'notify-keyspace-events'))) as [
    string,
    string,
  ];
  const missing = missingFlags(current);
  if (missing.length > 0) {
    if (!options.allowConfig) {
      throw new ConfigError(
        `Redis does not send expired/evicted key events (notify-keyspace-events is "${current}"). Add the flags ${missing.join('')} yourself, or pass allowConfig: true to let this call do it.`,
      );
    }
    await redis.run('config', (c) => c.config('SET', 'notify-keyspace-events', `${current}${missing.join('')}`));
  }
  const prefix = `${redis.options.prefix}:${options.namespace}:`;
  const db = redis.options.db;
  const subscriber = redis.duplicate('keyspace');
  const patterns = [`__keyevent@${db}__:expired`, `__keyevent@${db}__:evicted`];
  subscriber.on('message', (_channel: string, key: string) => {
    if (!key.startsWith(prefix)) return;
    for (const target of options.targets) {
      if (target.deleteLocal) target.deleteLocal([key]);
    }
  });
  await subscriber.subscribe(...patterns);
  return async () => {
    await subscriber.unsubscribe(...patterns).catch(() => {});
    subscriber.disconnect();
  };
}
