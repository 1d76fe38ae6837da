/** Who this process is, for claims and heartbeats: host, pid and a random part (pids repeat across hosts and restarts). */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

let cached: string | undefined;

/** `host:pid:random`, the same for the life of the process. */
export function processId(): string {
  cached ??= `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  return cached;
}

/** A random token of 128 bits or more, base64url. */
export function randomToken(bytes = 20): string {
  return randomBytes(Math.max(16, bytes)).toString('base64url');
}
