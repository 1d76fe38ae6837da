/**
 * Password hashes: scrypt from node:crypto, stored as
 * `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>` so the cost travels with
 * the hash and can be raised later without breaking old hashes.
 *
 * An empty password never verifies, whatever the hash (redis-commander #317:
 * an empty password logged in when auth was half configured).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '@stratacache/core-client';

/** scrypt cost parameters. */
export interface ScryptCost {
  /** CPU/memory cost, a power of two. @default 32768 */
  N?: number;
  /** Block size. @default 8 */
  r?: number;
  /** Parallelism. @default 1 */
  p?: number;
}

const KEY_LENGTH = 32;
const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=_-]{16,})\$([A-Za-z0-9+/=_-]{40,})$/;

/** A parsed hash. */
export interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function derive(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem: scrypt needs 128 * N * r bytes; allow twice that.
    scrypt(password, salt, KEY_LENGTH, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/**
 * Parses a stored hash; throws `ConfigError` naming `option` when it is not
 * one (so a typo in the environment stops the start instead of locking everyone out).
 */
export function parsePasswordHash(text: string, option: string): ParsedHash {
  const match = FORMAT.exec(text.trim());
  if (!match) {
    throw new ConfigError(
      `${option} must be a hash made by \`pnpm --filter @stratacache/admin hash-password\` (scrypt$N$r$p$salt$hash); got something else`,
      { context: { option } },
    );
  }
  const [, n, r, p, salt, hash] = match as unknown as [string, string, string, string, string, string];
  const parsed = {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    salt: Buffer.from(salt, 'base64'),
    hash: Buffer.from(hash, 'base64'),
  };
  if (
    parsed.N < 2 ||
    (parsed.N & (parsed.N - 1)) !== 0 ||
    parsed.r < 1 ||
    parsed.p < 1 ||
    parsed.hash.length !== KEY_LENGTH
  ) {
    throw new ConfigError(`${option} has scrypt parameters out of range (N a power of two, r and p at least 1)`, {
      context: { option },
    });
  }
  return parsed;
}

/**
 * Hashes `password` (at least 12 characters) with a fresh 16-byte salt.
 *
 * @example
 * ```ts
 * const stored = await hashPassword('correct horse battery staple');
 * await verifyPassword('correct horse battery staple', parsePasswordHash(stored, 'hash')); // true
 * ```
 */
export async function hashPassword(password: string, cost: ScryptCost = {}): Promise<string> {
  if (typeof password !== 'string' || password.length < 12) {
    throw new ConfigError('An admin password must be at least 12 characters long', { context: { option: 'password' } });
  }
  const N = cost.N ?? 32768;
  const r = cost.r ?? 8;
  const p = cost.p ?? 1;
  const salt = randomBytes(16);
  const hash = await derive(password, salt, N, r, p);
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** True when `password` matches `stored`. Empty or non-string passwords never match. */
export async function verifyPassword(password: unknown, stored: ParsedHash): Promise<boolean> {
  if (typeof password !== 'string' || password.length === 0 || password.length > 1024) return false;
  const hash = await derive(password, stored.salt, stored.N, stored.r, stored.p);
  return timingSafeEqual(hash, stored.hash);
}

/** A one-time password for a console started without a configured hash: 24 characters, 144 bits. */
export function oneTimePassword(): string {
  return randomBytes(18).toString('base64url');
}
