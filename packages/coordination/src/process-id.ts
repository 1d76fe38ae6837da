/** Who this process is, for claims and heartbeats: host, pid and a random part (pids repeat across hosts and restarts). */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

let cached: string | undefined;

/** `host:pid:random`, the same for the life of the process. */
export function processId(): string {
  cached ??= `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  return cached;
}

// Random bytes are drawn from the CSPRNG 4 KiB at a time: one call per token
// cost about 5 µs, a tenth of a lock round trip on a local Redis.
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/** A random token of 128 bits or more (default 160), base64url, from the CSPRNG. */
export function randomToken(bytes = 20): string {
  const size = Math.max(16, bytes);
  if (offset + size > pool.length) {
    pool = randomBytes(Math.max(POOL_SIZE, size));
    offset = 0;
  }
  const token = pool.toString('base64url', offset, offset + size);
  // Each byte is used once: a token never shares bytes with another.
  offset += size;
  return token;
}
