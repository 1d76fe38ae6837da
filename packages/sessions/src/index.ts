/**
 * @stratacache/sessions: sessions on Redis with per-user limits, AES-256-GCM at
 * rest, IP and user-agent binding, and analytics. Store adapters for
 * express-session and @fastify/session are on the `./express` and `./fastify` subpaths.
 */

export type { IpBindingMode, IpBindingOptions } from './binding.js';
export type { EncryptionKey, EncryptionOptions } from './crypto.js';
export { SessionChannels } from './diagnostics.js';
export { SessionLimitError } from './errors.js';
export type {
  SessionBindingMismatchEvent,
  SessionCreatedEvent,
  SessionDestroyedEvent,
  SessionEvents,
  SessionEventsByKey,
  SessionEvictedEvent,
  SessionExpiredEvent,
  SessionRefusedEvent,
  SessionRegeneratedEvent,
  SessionRejectedEvent,
  SessionTamperedEvent,
} from './events.js';
export { generateSessionId, isWellFormedId, SESSION_ID_LENGTH } from './ids.js';
export { createSessionManager, SessionManager } from './manager.js';
export type { LimitPolicy, ResolvedSessionOptions, Secret, SessionManagerOptions } from './options.js';
export type {
  BindingWarning,
  CreateResult,
  GetOptions,
  InvalidReason,
  InvalidSession,
  PutOptions,
  PutResult,
  RegenerateOptions,
  RequestContext,
  Session,
  SessionInfo,
  SessionStats,
  SessionTimes,
} from './types.js';
