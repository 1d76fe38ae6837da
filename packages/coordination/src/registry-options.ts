/** Options of a registry, resolved once. */
import { check, type Duration } from '@stratacache/core-client';

/** Options of `createRegistry`. */
export interface RegistryOptions {
  /** Registry name (one hash and one lock per name). @default 'registry' */
  name?: string;
  /** Key namespace. @default 'coord' */
  namespace?: string;
  /** How long a write may wait for the registry lock; 0 tries once. @default '10s' */
  lockWait?: Duration;
}

/** {@link RegistryOptions} with defaults applied. */
export interface ResolvedRegistryOptions {
  readonly name: string;
  readonly namespace: string;
  readonly lockWaitMs: number;
}

/** Resolves a registry's options; a bad one throws `ConfigError` naming it. */
export function resolveRegistryOptions(options: RegistryOptions = {}): ResolvedRegistryOptions {
  const o = check.object<RegistryOptions>(options, 'options');
  return Object.freeze({
    name: check.name(o.name ?? 'registry', 'name'),
    namespace: check.namespace(o.namespace ?? 'coord', 'namespace'),
    lockWaitMs: check.nonNegativeDuration(o.lockWait ?? '10s', 'lockWait'),
  });
}
