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
  WriteBehindDeadLetterEvent,
  WriteBehindEvents,
  WriteBehindFlushedEvent,
  WriteBehindRetryEvent,
} from './write-behind/events.js';
export type { WriteBehindDeadLetter, WriteBehindEntry, WriteBehindOp } from './write-behind/journal.js';
export { compareJournalIds } from './write-behind/journal.js';
export type {
  ResolvedWriteBehindOptions,
  WriteBehindFlushOptions,
  WriteBehindOptions,
} from './write-behind/options.js';
export { createWriteBehind, WriteBehind } from './write-behind/write-behind.js';
