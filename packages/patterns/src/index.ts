/**
 * @stratacache/patterns: the Cache. A memory tier over a Redis tier, coherent
 * across instances, with getOrSet and every caching pattern around it.
 */

export type { ManyResult, SetManyItem, SetOptions, WriteResult } from './cache/cache.js';
export { Cache } from './cache/cache.js';
export { createCache } from './cache/create-cache.js';
export type { CacheStats, PatternsEvent } from './diagnostics.js';
export { PatternsChannels } from './diagnostics.js';
export { CachedFactoryError, FactoryFailedError, FactoryTimeoutError } from './errors.js';
export type { Factory, FactoryContext } from './factory.js';
export type { CacheOptions, EntryOptions, FactoryTimeouts, MemoryTierOptions } from './options.js';
export type { CacheSource, WrapOptions } from './wrap.js';
export { cached, wrap } from './wrap.js';
export type {
  ResolvedWriteBehindOptions,
  WriteBehindDeadLetter,
  WriteBehindDeadLetterEvent,
  WriteBehindEntry,
  WriteBehindEvents,
  WriteBehindFlushedEvent,
  WriteBehindFlushOptions,
  WriteBehindOp,
  WriteBehindOptions,
  WriteBehindRetryEvent,
} from './write-behind.js';
export { compareJournalIds, createWriteBehind, WriteBehind } from './write-behind.js';
