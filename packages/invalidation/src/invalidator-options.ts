/** Options of an invalidator, resolved once. */
import { check, type Duration, failOption } from '@stratacache/core-client';
import type { InvalidationBus } from './bus.js';

/** The tag modes (see the README): tag sets written with each entry, or invalidation times judged on read. */
export type TagMode = 'eager' | 'lazy';

/** Options of `createInvalidator`. */
export interface InvalidatorOptions {
  /** The cache namespace whose keys this invalidates (its keys are `{prefix}:{namespace}:...`). Required. */
  namespace: string;
  /** The bus to broadcast on; without one, only Redis is touched. */
  bus?: InvalidationBus;
  /** Tag mode. @default 'eager' */
  tags?: TagMode;
  /** How long key and tag invalidation times are kept (longer than any entry's TTL plus grace). @default '1d' */
  markerTtl?: Duration;
  /**
   * How long a tag's or key's invalidation times read from Redis are reused
   * before being read again. The bus keeps them current in between; without a bus
   * they are read on every judgement (this option is then ignored). 0 reads every time.
   * @default '10s'
   */
  tagCacheTtl?: Duration;
}

/** {@link InvalidatorOptions} with defaults applied, durations in ms. */
export interface ResolvedInvalidatorOptions {
  readonly namespace: string;
  readonly bus: InvalidationBus | undefined;
  readonly tags: TagMode;
  readonly markerTtlMs: number;
  /** 0 without a bus: times are read on every judgement. */
  readonly tagCacheTtlMs: number;
}

/** Resolves an invalidator's options; a bad one throws `ConfigError` naming it. */
export function resolveInvalidatorOptions(options: InvalidatorOptions): ResolvedInvalidatorOptions {
  const o = check.object<InvalidatorOptions>(options, 'options');
  const bus = o.bus === undefined ? undefined : checkBus(o.bus);
  const tagCacheTtlMs = check.nonNegativeDuration(o.tagCacheTtl ?? '10s', 'tagCacheTtl');
  return Object.freeze({
    namespace: check.namespace(o.namespace, 'namespace'),
    bus,
    tags: check.oneOf(o.tags ?? 'eager', 'tags', ['eager', 'lazy'] as const),
    markerTtlMs: check.positiveDuration(o.markerTtl ?? '1d', 'markerTtl'),
    tagCacheTtlMs: bus ? tagCacheTtlMs : 0,
  });
}

/** A bus from `createInvalidationBus()` (checked by shape). */
export function checkBus(value: unknown, option = 'bus'): InvalidationBus {
  const bus = value as Partial<InvalidationBus> | null;
  if (
    typeof bus !== 'object' ||
    bus === null ||
    typeof bus.publish !== 'function' ||
    typeof bus.onInvalidation !== 'function' ||
    typeof bus.register !== 'function'
  ) {
    failOption(option, 'must be an InvalidationBus from createInvalidationBus()', value);
  }
  return value as InvalidationBus;
}
