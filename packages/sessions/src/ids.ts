/**
 * Session ids and what Redis sees of them. An id is 256 bits from the CSPRNG,
 * base64url (43 characters). Redis keys hold HMAC-SHA-256(secret, id), never
 * the id, so a dump of Redis yields no usable session id.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

/** Length of a session id: 32 bytes in base64url without padding. */
export const SESSION_ID_LENGTH = 43;

// 256 bits = 42 characters of 6 bits plus one carrying the last 4 bits (its low 2 bits are zero),
// so only one spelling of each id is well formed.
const WELL_FORMED = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** A new session id: 32 random bytes, base64url. */
export function generateSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** True when `id` could be a session id this package issued (checked before any Redis round trip). */
export function isWellFormedId(id: unknown): id is string {
  return typeof id === 'string' && WELL_FORMED.test(id);
}

/** HMAC-SHA-256 of `id` under `secret`, base64url: the part of the Redis key that names a session. */
export function hmacId(secret: Buffer, id: string): string {
  return createHmac('sha256', secret).update(id).digest('base64url');
}

/** SHA-256 of a user agent, base64url: enough to compare, nothing to read back. */
export function hashUserAgent(userAgent: string): string {
  return createHash('sha256').update(userAgent).digest('base64url');
}
