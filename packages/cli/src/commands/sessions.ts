/**
 * `stratacache sessions list|revoke|stats`: a user's sessions through the
 * sessions manager, which needs the application's HMAC secret
 * (`SESSION_SECRET`, several separated by commas while rotating) and, when
 * sessions are encrypted, its keys (`SESSION_ENCRYPTION_KEYS=id:base64,...`).
 */
import type { StrataRedis } from '@stratacache/core-client';
import { createSessionManager, type SessionManager } from '@stratacache/sessions';
import { UsageError } from '../io.js';

/** A manager over namespace `namespace`, with the secrets from `env`. */
export function sessionManager(
  redis: StrataRedis,
  namespace: string,
  env: Record<string, string | undefined>,
): SessionManager<unknown> {
  const secrets = (env.SESSION_SECRET ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (secrets.length === 0) {
    throw new UsageError(
      'sessions needs the HMAC secret of your session manager in SESSION_SECRET (several, comma-separated, while rotating)',
    );
  }
  const keys = (env.SESSION_ENCRYPTION_KEYS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf(':');
      if (at <= 0) throw new UsageError(`SESSION_ENCRYPTION_KEYS: expected id:base64key, got ${JSON.stringify(pair)}`);
      return { id: pair.slice(0, at), key: Buffer.from(pair.slice(at + 1), 'base64') };
    });
  return createSessionManager({
    redis,
    namespace,
    secret: secrets.length === 1 ? (secrets[0] as string) : secrets,
    ...(keys.length > 0 ? { encryption: { keys } } : {}),
  });
}

/** The user's live sessions, most recent first: `ref` (for revoke), times, address, and the data when asked. */
export async function listSessions(manager: SessionManager<unknown>, userId: string, withData: boolean) {
  const sessions = await manager.list(userId);
  return sessions.map((s) => ({
    ref: s.ref,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeenAt: new Date(s.lastSeenAt).toISOString(),
    expiresAt: new Date(s.expiresAt).toISOString(),
    ip: s.ip ?? null,
    ...(withData ? { data: s.data } : {}),
  }));
}
