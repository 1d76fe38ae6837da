/**
 * What every view shares: the options, the Redis client, the bus, the audit
 * log, the sampler and alerts, the users, the login limiter, and the
 * invalidators the views create on demand (one per cache namespace).
 */
import type { RateLimiter } from '@stratacache/coordination';
import type { StrataRedis } from '@stratacache/core-client';
import type { InvalidationBus } from '@stratacache/invalidation';
import type { AlertEvent, Alerts, Health } from '@stratacache/metrics';
import type { AuditLog } from './audit.js';
import type { ResolvedAdminOptions } from './config.js';
import type { FeedHub } from './feed-hub.js';
import type { ParsedHash } from './password.js';
import type { Sampler } from './sampler.js';
import type { Role } from './security.js';
import type { WindowHub } from './window-hub.js';

/** A user of the console: `admin` (from ADMIN_PASSWORD_HASH or the one-time password) or `viewer`. */
export interface User {
  name: string;
  role: Role;
  hash: ParsedHash;
}

/** The console's shared state. */
export interface AdminContext {
  options: Readonly<ResolvedAdminOptions>;
  redis: StrataRedis;
  bus: InvalidationBus;
  audit: AuditLog;
  sampler: Sampler;
  health: Health;
  alerts: Alerts;
  /** The newest alert changes first (at most 50). */
  alertLog: AlertEvent[];
  feed: FeedHub;
  /** Live updates of window series (the windows view). */
  windows: WindowHub;
  users: ReadonlyMap<string, User>;
  loginLimiter: RateLimiter;
  /** Closes the invalidators the views created (set by the tags and keys views). */
  invalidatorsClose?: () => void;
}
