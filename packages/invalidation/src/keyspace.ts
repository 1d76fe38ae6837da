/**
 * Keyspace notifications: when Redis expires or evicts a key, drop it from the
 * local tiers too, so a memory tier never outlives the Redis entry it copies.
 *
 * Redis sends these only when `notify-keyspace-events` enables them. This
 * module changes that server setting only when the caller allows it
 * (`allowConfig: true`); otherwise it checks and says what to enable.
 *
 * On Cluster every master sends the events of its own keys only, to its own
 * subscribers (they do not cross the cluster bus): one subscriber per master,
 * and on every slot-map refresh a master that appeared (a promoted replica)
 * is checked and subscribed too, one that is no longer a master dropped.
 */
import { ConfigError, check, failOption, type StrataRedis } from '@stratacache/core-client';
import type { Cluster, Redis } from 'ioredis';
import { diagnostics } from './diagnostics.js';
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
 * Checks (and with `allowConfig`, sets) `notify-keyspace-events` through
 * `server` (the client, or one Cluster master); throws a `ConfigError`
 * naming the flags to add when they are missing and may not be set.
 */
async function ensureEvents(
  redis: StrataRedis,
  server: (c: StrataRedis['client']) => Redis | StrataRedis['client'],
  allowConfig: boolean,
  where: string,
): Promise<void> {
  const [, current = ''] = (await redis.run('config', (c) => server(c).config('GET', 'notify-keyspace-events'))) as [
    string,
    string,
  ];
  const missing = missingFlags(current);
  if (missing.length === 0) return;
  if (!allowConfig) {
    throw new ConfigError(
      `Redis${where} does not send expired/evicted key events (notify-keyspace-events is "${current}"). Add the flags ${missing.join('')} yourself (on every node of a Cluster, in redis.conf so a restarted or promoted node has them), or pass allowConfig: true to let this call do it.`,
    );
  }
  await redis.run('config', (c) => server(c).config('SET', 'notify-keyspace-events', `${current}${missing.join('')}`));
}

/**
 * Subscribes to expired and evicted key events of the client's database and
 * forwards the namespace's keys to `targets` (`deleteLocal`). Resolves a
 * function that stops listening. On Cluster it listens to every master (see
 * the file comment).
 */
export async function listenToKeyspace(redis: StrataRedis, options: KeyspaceOptions): Promise<() => Promise<void>> {
  check.strataRedis(redis, 'redis');
  const o = resolveKeyspaceOptions(options);
  const prefix = `${redis.options.prefix}:${o.namespace}:`;
  const forward = (_channel: string, key: string) => {
    if (!key.startsWith(prefix)) return;
    for (const target of o.targets) {
      if (target.deleteLocal) target.deleteLocal([key]);
    }
  };
  if (redis.mode === 'cluster') return listenOnEveryMaster(redis, o, forward);
  await ensureEvents(redis, (c) => c, o.allowConfig, '');
  const db = redis.options.db;
  const subscriber = redis.duplicate('keyspace');
  const patterns = [`__keyevent@${db}__:expired`, `__keyevent@${db}__:evicted`];
  subscriber.on('message', forward);
  await subscriber.subscribe(...patterns);
  return async () => {
    await subscriber.unsubscribe(...patterns).catch(() => {});
    subscriber.disconnect();
  };
}

/** Cluster has one database. */
const CLUSTER_CHANNELS = ['__keyevent@0__:expired', '__keyevent@0__:evicted'];

async function listenOnEveryMaster(
  redis: StrataRedis,
  o: Readonly<Required<KeyspaceOptions>>,
  forward: (channel: string, key: string) => void,
): Promise<() => Promise<void>> {
  const cluster = redis.client as Cluster;
  const subscribers = new Map<string, Redis>();
  const follow = async (node: Redis): Promise<void> => {
    const key = `${node.options.host}:${node.options.port}`;
    if (subscribers.has(key)) return;
    await ensureEvents(redis, () => node, o.allowConfig, ` node ${key}`);
    const subscriber = node.duplicate({
      connectionName: `${redis.options.connectionName}:keyspace`,
      // Cluster node connections never reconnect (ioredis follows the slot map instead); this one does
      // until the node stops being a master.
      retryStrategy: (attempt: number) => Math.min(100 * attempt, 2000),
    });
    subscriber.on('error', () => {});
    subscriber.on('message', forward);
    subscribers.set(key, subscriber);
    await subscriber.subscribe(...CLUSTER_CHANNELS);
  };
  // Once the slot map is known: before that the client has no masters.
  await redis.run('ping', (c) => c.ping());
  await Promise.all(cluster.nodes('master').map(follow));
  const onRefresh = () => {
    const masters = cluster.nodes('master');
    const keys = new Set(masters.map((n) => `${n.options.host}:${n.options.port}`));
    for (const [key, subscriber] of subscribers) {
      if (keys.has(key)) continue;
      subscribers.delete(key);
      subscriber.disconnect();
    }
    for (const node of masters) {
      const key = `${node.options.host}:${node.options.port}`;
      follow(node).catch((error: unknown) => {
        subscribers.get(key)?.disconnect();
        subscribers.delete(key);
        diagnostics.publish('keyspaceError', {
          namespace: o.namespace,
          node: key,
          reason: error instanceof ConfigError ? 'config' : 'subscribe',
        });
      });
    }
  };
  cluster.on('refresh', onRefresh);
  return async () => {
    cluster.off('refresh', onRefresh);
    await Promise.all(
      [...subscribers.values()].map(async (subscriber) => {
        await subscriber.unsubscribe(...CLUSTER_CHANNELS).catch(() => {});
        subscriber.disconnect();
      }),
    );
    subscribers.clear();
  };
}
