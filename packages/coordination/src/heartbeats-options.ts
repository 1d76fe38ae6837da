/** Options of heartbeats, resolved once. */
import { check, type Duration } from '@stratacache/core-client';

/** Options of `createHeartbeats`. */
export interface HeartbeatsOptions {
  /** Key namespace. @default 'coord' */
  namespace?: string;
  /** Group of workers (one registry per group). @default 'workers' */
  group?: string;
  /** A worker is alive when it beat within this. @default '30s' */
  window?: Duration;
}

/** {@link HeartbeatsOptions} with defaults applied. */
export interface ResolvedHeartbeatsOptions {
  readonly namespace: string;
  readonly group: string;
  readonly windowMs: number;
}

/** Resolves the options of heartbeats; a bad one throws `ConfigError` naming it. */
export function resolveHeartbeatsOptions(options: HeartbeatsOptions = {}): ResolvedHeartbeatsOptions {
  const o = check.object<HeartbeatsOptions>(options, 'options');
  return Object.freeze({
    namespace: check.namespace(o.namespace ?? 'coord', 'namespace'),
    group: check.name(o.group ?? 'workers', 'group'),
    windowMs: check.positiveDuration(o.window ?? '30s', 'window'),
  });
}
