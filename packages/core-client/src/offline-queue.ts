/**
 * A bound on ioredis's offline queue. ioredis queues commands while it is not
 * connected and has no limit of its own, so a service whose Redis is down
 * piles up commands (and memory) until timeouts fire. Past `max` queued
 * commands, new ones are rejected at once with a ConnectionError.
 */
import type { Cluster, Redis } from 'ioredis';
import { ConnectionError } from './errors.js';

interface QueuedCommand {
  name: string;
  reject(error: Error): void;
  promise: Promise<unknown>;
  setTimeout?(ms: number): void;
}

/** Statuses in which ioredis queues commands rather than sending them. */
const OFFLINE = new Set(['wait', 'connecting', 'reconnecting', 'close']);

/**
 * Wraps `client.sendCommand` so the offline queue never holds more than `max`
 * commands (pipelined commands count too), and so every command's timeout
 * starts when it is issued. ioredis arms `commandTimeout` in a standalone
 * client's sendCommand, but a Cluster queues commands before any node sees
 * them, with no timer: without this a command issued while the cluster is
 * down would wait forever.
 */
export function boundOfflineQueue(client: Redis | Cluster, max: number, name: string, timeoutMs?: number): void {
  const target = client as unknown as {
    status: string;
    offlineQueue?: { length: number };
    sendCommand(command: QueuedCommand, stream?: unknown, node?: unknown): Promise<unknown>;
  };
  const original = target.sendCommand.bind(target);
  // The bound starts once the first connection attempt has settled (ready or
  // failed): a burst issued while the client is still making its first
  // connection is normal start-up, bounded in time by connectTimeout and
  // commandTimeout; after a failure, queued work only piles up behind a dead Redis.
  let settled = false;
  const settle = () => {
    settled = true;
  };
  (client as unknown as NodeJS.EventEmitter).once('ready', settle);
  (client as unknown as NodeJS.EventEmitter).once('close', settle);
  target.sendCommand = (command, stream, node) => {
    if (timeoutMs && timeoutMs > 0) command.setTimeout?.(timeoutMs);
    if (settled && OFFLINE.has(target.status) && (target.offlineQueue?.length ?? 0) >= max) {
      command.reject(
        new ConnectionError(
          `Redis is not connected and ${max} commands are already queued (maxOfflineQueue); ${command.name} was rejected at once instead of waiting.`,
          { context: { client: name, command: command.name, queued: max } },
        ),
      );
      return command.promise;
    }
    return original(command, stream, node);
  };
}
