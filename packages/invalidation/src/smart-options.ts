/** Options of smart invalidation, resolved once. */
import { check, type Duration, failOption } from '@stratacache/core-client';
import type { InvalidationBus } from './bus.js';
import { checkBus } from './invalidator-options.js';

/** Options of `createSmartInvalidation`. */
export interface SmartInvalidationOptions {
  /** The bus whose invalidations are counted (and which triggers re-warming). Required. */
  bus: InvalidationBus;
  /** Share of accesses counted (more than 0, at most 1); counts are scaled back up. @default 0.1 */
  sampleRate?: number;
  /** The group of a key. @default everything before the last ':' */
  groupOf?: (key: string) => string;
  /** A key is hot when it had at least this many (estimated) accesses in the window. @default 10 */
  hotThreshold?: number;
  /** The window for hotness and rates (ms, or `'1m'`). @default '1m' */
  window?: Duration;
  /**
   * The same as `window`, in ms.
   * @deprecated Use `window`; this name goes in the next major version.
   */
  windowMs?: number;
  /** Most keys tracked for hotness; the oldest are forgotten first. @default 10000 */
  maxTrackedKeys?: number;
  /** Random source, for tests. @default Math.random */
  random?: () => number;
}

/** {@link SmartInvalidationOptions} with defaults applied. */
export interface ResolvedSmartInvalidationOptions {
  readonly bus: InvalidationBus;
  readonly sampleRate: number;
  readonly groupOf: (key: string) => string;
  readonly hotThreshold: number;
  readonly windowMs: number;
  readonly maxTrackedKeys: number;
  readonly random: () => number;
}

const groupBeforeLastColon = (key: string) => key.slice(0, Math.max(0, key.lastIndexOf(':'))) || key;

/** Resolves the options; a bad one throws `ConfigError` naming it. */
export function resolveSmartInvalidationOptions(options: SmartInvalidationOptions): ResolvedSmartInvalidationOptions {
  const o = check.object<SmartInvalidationOptions>(options, 'options');
  if (o.window !== undefined && o.windowMs !== undefined) {
    failOption('windowMs', 'cannot be combined with window (its new name)', o.windowMs);
  }
  if (o.windowMs !== undefined && typeof o.windowMs !== 'number') {
    failOption('windowMs', 'must be a number of milliseconds', o.windowMs);
  }
  return Object.freeze({
    bus: checkBus(o.bus),
    sampleRate: check.fraction(o.sampleRate ?? 0.1, 'sampleRate', { zero: false }),
    groupOf:
      o.groupOf === undefined ? groupBeforeLastColon : check.function<(key: string) => string>(o.groupOf, 'groupOf'),
    hotThreshold: check.positiveInt(o.hotThreshold ?? 10, 'hotThreshold'),
    windowMs:
      o.windowMs !== undefined
        ? check.positiveDuration(o.windowMs, 'windowMs')
        : check.positiveDuration(o.window ?? '1m', 'window'),
    maxTrackedKeys: check.positiveInt(o.maxTrackedKeys ?? 10_000, 'maxTrackedKeys'),
    random: o.random === undefined ? Math.random : check.function<() => number>(o.random, 'random'),
  });
}
