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
}

/** Statuses in which ioredis queues commands rather than sending them. */
const OFFLINE = new Set(['wait', 'connecting', 'reconnecting', 'close']);

/** Wraps `client.sendCommand` so the offline queue never holds more than `max` commands. */
export function boundOfflineQueue(client: Redis | Cluster, max: number, name: string): void {
  const target = client as unknown as {
    status: string;
    offlineQueue?: { length: number };
    sendCommand(command: QueuedCommand, stream?: unknown, node?: unknown): Promise<unknown>;
  };
  const original = target.sendCommand.bind(target);
  target.sendCommand = (command, stream, node) => {
    if (!stream && OFFLINE.has(target.status) && (target.offlineQueue?.length ?? 0) >= max) {
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
