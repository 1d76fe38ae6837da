/**
 * A registry of named configurations (ingesters, jobs, feeds) shared by a
 * fleet: register, get, list and unregister under a registry lock, with change
 * notifications on pub/sub for hot reload, fields private to the registering
 * scope, and dependency order (`dependsOn`) with cycles refused by name.
 */
import {
  assertWellFormed,
  ConfigError,
  ConsistencyError,
  check,
  type StrataRedis,
  type Subscription,
} from '@stratacache/core-client';
import { Locks, type UsingResult } from './locks.js';
import { type RegistryOptions, type ResolvedRegistryOptions, resolveRegistryOptions } from './registry-options.js';

export type { RegistryOptions } from './registry-options.js';

/** One registered entry. */
export interface RegistryEntry<C extends Record<string, unknown> = Record<string, unknown>> {
  kind: string;
  name: string;
  /** The configuration; fields in `privateFields` are removed for readers of other scopes. */
  config: C;
  /** The scope that registered it (a team, a service). */
  scope: string;
  /** Entries this one needs first, as `kind:name` (or `name` within the same kind). */
  dependsOn: string[];
  /** Config fields only readers of the same scope may see. */
  privateFields: string[];
  /** Registry-wide change counter at the time of this write. */
  version: number;
  updatedAt: number;
}

/** A change, as delivered to `onChange` handlers. */
export interface RegistryChange {
  type: 'registered' | 'unregistered';
  kind: string;
  name: string;
  version: number;
}

/** Options of `register`. */
export interface RegisterOptions {
  /** The registering scope. @default 'default' */
  scope?: string;
  /** Entries this one depends on. */
  dependsOn?: string[];
  /** Config fields other scopes may not read. */
  privateFields?: string[];
}

const id = (kind: string, name: string) => `${kind}:${name}`;

/** The registry. */
export class Registry {
  /** The resolved options (frozen). */
  readonly options: ResolvedRegistryOptions;
  private readonly redis: StrataRedis;
  private readonly hashKey: string;
  private readonly versionKey: string;
  private readonly lockName: string;
  private readonly locks: Locks;
  private readonly topic: string;
  private readonly lockWait: number;
  private readonly namespace: string;

  constructor(redis: StrataRedis, options: RegistryOptions = {}) {
    this.redis = check.strataRedis(redis, 'redis');
    this.options = resolveRegistryOptions(options);
    const { name, namespace } = this.options;
    this.namespace = namespace;
    const keys = redis.keys(namespace);
    this.hashKey = keys.key('registry', keys.tag(name), 'entries');
    this.versionKey = keys.key('registry', keys.tag(name), 'version');
    this.lockName = `registry:${name}`;
    this.locks = new Locks(redis, { namespace, ttl: '10s', retryDelay: '10ms' });
    this.topic = `registry.${name}`;
    this.lockWait = this.options.lockWaitMs;
  }

  /**
   * Registers (or replaces) `kind`/`name`. Refuses, with a ConfigError naming
   * the cycle, an entry whose `dependsOn` would close a dependency cycle.
   */
  async register<C extends Record<string, unknown>>(
    kind: string,
    name: string,
    config: C,
    options: RegisterOptions = {},
  ): Promise<RegistryEntry<C>> {
    // Hash fields, not keys, but UTF-8 would merge two ill-formed names all the same.
    assertWellFormed(check.name(kind, 'kind'), 'kind');
    assertWellFormed(check.name(name, 'name'), 'name');
    check.object(config, 'config');
    const entryId = id(kind, name);
    const dependsOn = (options.dependsOn ?? []).map((d, i) => {
      assertWellFormed(check.name(d, `dependsOn[${i}]`), `dependsOn[${i}]`);
      return d.includes(':') ? d : id(kind, d);
    });
    const privateFields = options.privateFields ?? [];
    for (const field of privateFields) {
      if (!(field in config))
        throw new ConfigError(
          `privateFields names ${JSON.stringify(field)}, which the config of ${entryId} does not have`,
        );
    }
    const result = await this.locks.using(
      this.lockName,
      async (signal) => {
        const all = await this.readAll();
        all.set(entryId, {
          kind,
          name,
          config,
          scope: options.scope ?? 'default',
          dependsOn,
          privateFields,
          version: 0,
          updatedAt: 0,
        });
        const cycle = findCycle(all, entryId);
        if (cycle)
          throw new ConfigError(`Registering ${entryId} would create a dependency cycle: ${cycle.join(' -> ')}`);
        // A lost lock means another writer may have changed what was just checked.
        if (signal.aborted) throw signal.reason;
        const version = await this.redis.run('incr', (c) => c.incr(this.versionKey));
        const entry: RegistryEntry<C> = {
          kind,
          name,
          config,
          scope: options.scope ?? 'default',
          dependsOn,
          privateFields,
          version,
          updatedAt: Date.now(),
        };
        await this.redis.run('hset', (c) => c.hset(this.hashKey, entryId, JSON.stringify(entry)));
        await this.notify({ type: 'registered', kind, name, version });
        return entry;
      },
      { wait: this.lockWait },
    );
    return this.outcome(result);
  }

  /** Removes `kind`/`name`; resolves whether it existed. Refuses while other entries depend on it. */
  async unregister(kind: string, name: string): Promise<boolean> {
    const entryId = id(kind, name);
    const result = await this.locks.using(
      this.lockName,
      async (signal) => {
        const all = await this.readAll();
        if (!all.has(entryId)) return false;
        const dependents = [...all.values()]
          .filter((e) => e.dependsOn.includes(entryId))
          .map((e) => id(e.kind, e.name));
        if (dependents.length > 0)
          throw new ConfigError(`${entryId} cannot be unregistered: ${dependents.join(', ')} depend on it`);
        if (signal.aborted) throw signal.reason;
        const version = await this.redis.run('incr', (c) => c.incr(this.versionKey));
        await this.redis.run('hdel', (c) => c.hdel(this.hashKey, entryId));
        await this.notify({ type: 'unregistered', kind, name, version });
        return true;
      },
      { wait: this.lockWait },
    );
    return this.outcome(result);
  }

  /** The value of a locked write, or the error that says why it did not happen. */
  private outcome<T>(result: UsingResult<T>): T {
    if (!result.acquired) {
      throw new ConfigError(`The registry lock stayed busy for ${this.lockWait} ms; raise lockWait or retry.`);
    }
    if (result.lost)
      throw new ConsistencyError('The registry lock was lost during the write; check the registry and retry.');
    return result.value;
  }

  /** The entry `kind`/`name` as `scope` may see it, or null. */
  async get<C extends Record<string, unknown> = Record<string, unknown>>(
    kind: string,
    name: string,
    options: { scope?: string } = {},
  ): Promise<RegistryEntry<C> | null> {
    const raw = await this.redis.run('hget', (c) => c.hget(this.hashKey, id(kind, name)));
    return raw ? (visibleTo(JSON.parse(raw) as RegistryEntry, options.scope ?? 'default') as RegistryEntry<C>) : null;
  }

  /** Every entry (of `kind`, when given) as `scope` may see it, sorted by kind and name. */
  async list(kind?: string, options: { scope?: string } = {}): Promise<RegistryEntry[]> {
    const all = [...(await this.readAll()).values()].filter((e) => kind === undefined || e.kind === kind);
    return all
      .sort((a, b) => id(a.kind, a.name).localeCompare(id(b.kind, b.name)))
      .map((e) => visibleTo(e, options.scope ?? 'default'));
  }

  /**
   * Entries in dependency order: every entry after those it depends on.
   * Throws a ConfigError naming a cycle, or a dependency that is not registered.
   */
  async resolveOrder(options: { scope?: string } = {}): Promise<RegistryEntry[]> {
    const all = await this.readAll();
    const cycle = findCycle(all);
    if (cycle) throw new ConfigError(`Dependency cycle in the registry: ${cycle.join(' -> ')}`);
    const order: RegistryEntry[] = [];
    const done = new Set<string>();
    const visit = (entryId: string, from: string) => {
      if (done.has(entryId)) return;
      const entry = all.get(entryId);
      if (!entry) throw new ConfigError(`${from} depends on ${entryId}, which is not registered`);
      for (const dep of entry.dependsOn) visit(dep, entryId);
      done.add(entryId);
      order.push(visibleTo(entry, options.scope ?? 'default'));
    };
    for (const entryId of [...all.keys()].sort()) visit(entryId, entryId);
    return order;
  }

  /** Calls `handler` on every registration change of any instance (for hot reload). */
  onChange(handler: (change: RegistryChange) => void): Promise<Subscription> {
    return this.redis.pubsub(this.namespace).subscribe<RegistryChange>(this.topic, handler);
  }

  private async notify(change: RegistryChange): Promise<void> {
    await this.redis.pubsub(this.namespace).publish(this.topic, change);
  }

  private async readAll(): Promise<Map<string, RegistryEntry>> {
    const raw = await this.redis.run('hgetall', (c) => c.hgetall(this.hashKey));
    return new Map(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as RegistryEntry]));
  }
}

function visibleTo(entry: RegistryEntry, scope: string): RegistryEntry {
  if (entry.scope === scope || entry.privateFields.length === 0) return entry;
  const config = { ...entry.config };
  for (const field of entry.privateFields) delete config[field];
  return { ...entry, config };
}

/**
 * A dependency cycle as a path (`a -> b -> a`), starting from `start` when it
 * is on one, or null. Missing dependencies are not cycles.
 */
export function findCycle(entries: Map<string, Pick<RegistryEntry, 'dependsOn'>>, start?: string): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    const mark = state.get(node);
    if (mark === 'done') return null;
    if (mark === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    const entry = entries.get(node);
    if (!entry) return null;
    state.set(node, 'visiting');
    stack.push(node);
    for (const dep of entry.dependsOn) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of start === undefined ? entries.keys() : [start, ...entries.keys()]) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

/** Creates a registry. */
export function createRegistry(redis: StrataRedis, options?: RegistryOptions): Registry {
  return new Registry(redis, options);
}
