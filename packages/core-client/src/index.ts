/**
 * @stratacache/core-client: connections that fail fast, one key scheme, one
 * error model, Lua scripts, SCAN, batches, pub/sub and health.
 */

export type { BatchOptions, SetManyEntry } from './batch.js';
export { getMany, setMany } from './batch.js';
export type { BreakerState, BreakerStateChange, CircuitBreakerSettings } from './breaker.js';
export { CircuitBreaker, isAvailabilityFailure } from './breaker.js';
export type { RedisConnection } from './create-redis.js';
export { createRedis, StrataRedis } from './create-redis.js';
export { CoreChannels } from './diagnostics.js';
export type { Duration } from './duration.js';
export { toMs } from './duration.js';
export { mapRedisError } from './error-mapping.js';
export type { StratacacheErrorOptions } from './errors.js';
export {
  CircuitOpenError,
  ConfigError,
  ConnectionError,
  ConsistencyError,
  ErrorCode,
  errors,
  KeyError,
  ReadError,
  ScriptError,
  SerializationError,
  STRATACACHE_ERROR_MARKER,
  StratacacheError,
  TimeoutError,
  WriteError,
} from './errors.js';
export { canonicalJson, hashParams } from './hash.js';
export type { HealthReport, NodeHealth } from './health.js';
export { checkHealth, parseInfo } from './health.js';
export type { KeyBuilderOptions, KeyPart } from './keys.js';
export { createKeyBuilder, encodeKeyPart, escapeGlob, HashTag, KeyBuilder } from './keys.js';
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
export { DEFAULTS } from './options.js';
export type { MessageHandler, MessageMeta, ResubscribedEvent, SubscribeOptions, Subscription } from './pubsub.js';
export { PubSub } from './pubsub.js';
export { reconnectDelay } from './reconnect.js';
export { redactUrl } from './redact.js';
export { parseNodeList, resolveOptions } from './resolve-options.js';
export type { ScanOptions, UnlinkOptions } from './scan.js';
export { scanKeys, scanTargets, unlinkMatching } from './scan.js';
export type { LuaScript, ScriptArg } from './scripts.js';
export { defineScript, runScript } from './scripts.js';
export type { AutoClaimReply, PendingEntry, ReplyValue, StreamEntry, StreamGroupInfo } from './stream-replies.js';
export {
  mapReplyEntries,
  parseAutoClaimReply,
  parseGroupsReply,
  parsePendingReply,
  parseStreamEntries,
  parseStreamsReply,
} from './stream-replies.js';
