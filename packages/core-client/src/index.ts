/**
 * @stratacache/core-client: connections that fail fast, one key scheme, one
 * error model, Lua scripts, SCAN, batches, pub/sub, health, time budgets and
 * the option validators every layer shares.
 *
 * The public surface is what layers and applications use; everything else
 * (option resolution, error mapping, the breaker's internals, free-function
 * twins of the client's methods) stays internal. `test/exports.test.ts` lists
 * every name, so growing it is a reviewed change.
 */

export type { BatchOptions, SetManyEntry } from './batch.js';
export type { BreakerState, BreakerStateChange, CircuitBreaker } from './breaker.js';
export { sendWithin, type TimeBudget } from './budget.js';
export type { ChannelNames, ChannelSet } from './channels.js';
export { defineChannels } from './channels.js';
export type { FractionBounds } from './check.js';
export { check } from './check.js';
export type { RedisClockOptions } from './clock.js';
export { RedisClock } from './clock.js';
export type { RedisConnection, RunOptions } from './create-redis.js';
export { createRedis, StrataRedis } from './create-redis.js';
export { failOption } from './describe-value.js';
export { CoreChannels } from './diagnostics.js';
export type { Duration } from './duration.js';
export { toMs } from './duration.js';
export { mapRedisError } from './error-mapping.js';
export type { StratacacheErrorOptions } from './errors.js';
export {
  CircuitOpenError,
  ClientClosedError,
  ConfigError,
  ConnectionError,
  ConsistencyError,
  ErrorCode,
  errors,
  KeyError,
  ReadError,
  ScriptError,
  STRATACACHE_ERROR_MARKER,
  StratacacheError,
  TimeoutError,
  WriteError,
} from './errors.js';
export { hashParams } from './hash.js';
export type { HealthReport, NodeHealth, UnreadablePart } from './health.js';
export { parseInfo } from './health.js';
export type { HashTag, KeyBuilderOptions, KeyPart } from './keys.js';
export { assertWellFormed, createKeyBuilder, encodeKeyPart, escapeGlob, KeyBuilder } from './keys.js';
export type { DistributedLock, LockAcquireOptions, LockHandle } from './lock.js';
export { luaScripts } from './lua.generated.js';
export type {
  BreakerOptions,
  ConnectionMode,
  HostPort,
  RedisClientOptions,
  ResolvedOptions,
  TlsOptions,
} from './options.js';
export type {
  MessageHandler,
  MessageMeta,
  PubSub,
  ResubscribedEvent,
  SubscribeOptions,
  Subscription,
} from './pubsub.js';
export type { RunCallback } from './run-command.js';
export type { ScanOptions, UnlinkOptions } from './scan.js';
export { scanTargets } from './scan.js';
export type { LuaScript, ScriptArg } from './scripts.js';
export { defineScript } from './scripts.js';
export type { AutoClaimReply, PendingEntry, ReplyValue, StreamEntry, StreamGroupInfo } from './stream-replies.js';
export {
  mapReplyEntries,
  parseAutoClaimReply,
  parseGroupsReply,
  parsePendingReply,
  parseStreamEntries,
  parseStreamsReply,
} from './stream-replies.js';
