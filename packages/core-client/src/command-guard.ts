/**
 * The one wrapper around a connection's `sendCommand`: everything that must
 * happen when a command is issued, whatever issued it (`run()`, a pipeline,
 * `redis.client.get()` directly).
 *
 * - **Timeout from issue.** ioredis arms `commandTimeout` in a standalone
 *   client's sendCommand, but a Cluster queues commands before any node sees
 *   them, with no timer: the timer starts here. Under a time budget
 *   (`redis.budget()`) it is the budget's remaining time when that is shorter.
 * - **A bound on the offline queue.** ioredis queues commands while it is not
 *   connected and has no limit of its own: past `max` queued commands, new
 *   ones are rejected at once with a ConnectionError.
 * - **Sent or not.** A command rejected before any byte of it was written to a
 *   socket is marked "not sent", so its error can say it did not run instead of
 *   "the outcome is unknown". The mark goes on a copy of the error: ioredis
 *   rejects queued and in-flight commands with one shared error object.
 * - **A fatal connection error** (a database index the server refuses) rejects
 *   every command here, so none can reach the wrong database.
 * - **Before the first command of each connection**, a hook (scripts to load).
 */
import type { Cluster, Redis } from 'ioredis';
import { StratacacheError } from './errors.js';

interface QueuedCommand {
  name: string;
  reject(error: Error): void;
  promise: Promise<unknown>;
  setTimeout?(ms: number): void;
  toWritable?(socket: unknown): unknown;
}

/** Marks an error as one of a command that was never written to a socket. */
const NOT_SENT: unique symbol = Symbol.for('stratacache.notSent') as never;
const TRACKED = Symbol('stratacache.tracked');
const SENT = Symbol('stratacache.sent');

/** True when `error` rejected a command before any byte of it was sent. */
export function wasNotSent(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[NOT_SENT] === true;
}

/** An error that says its command was never sent (the budget ran out first, the client is failed). */
export function notSentError(message: string, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  Object.defineProperty(error, NOT_SENT, { value: true });
  return error;
}

/** A copy of `error` (same message, name and code) marked not sent; the original is the cause. */
function markNotSent(error: Error): Error {
  // Our own errors (a fatal connection error) already say what happened.
  if (wasNotSent(error) || StratacacheError.isInstance(error)) return error;
  const copy = notSentError(error.message, error);
  copy.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) Object.defineProperty(copy, 'code', { value: code, enumerable: true });
  return copy;
}

/** Statuses in which ioredis queues commands rather than sending them. */
const OFFLINE = new Set(['wait', 'connecting', 'reconnecting', 'close']);

/** What the guard needs from the client. */
export interface CommandGuardOptions {
  /** Most commands queued while disconnected. */
  maxOfflineQueue: number;
  /** Connection name, for messages and events. */
  name: string;
  /** The command timeout, in ms. */
  timeoutMs: number;
  /** Where the connection goes, for messages (no credentials). */
  address: () => string;
  /** A fatal error that every command must get instead of being sent. */
  fatal?: () => Error | undefined;
  /** The time left of the caller's budget, in ms (undefined outside a budget). */
  budgetLeft?: () => number | undefined;
  /** Called with the connection before a command goes out while it is ready (loads scripts once per connection). */
  beforeSend?: () => void;
}

/** Tracks whether `command` is ever written, and marks its rejection when it was not. */
function track(command: QueuedCommand): void {
  const tracked = command as unknown as Record<symbol, boolean>;
  if (tracked[TRACKED]) return;
  tracked[TRACKED] = true;
  tracked[SENT] = false;
  const toWritable = command.toWritable;
  if (typeof toWritable === 'function') {
    command.toWritable = function (this: unknown, socket: unknown) {
      tracked[SENT] = true;
      return toWritable.call(this, socket);
    };
  }
  const reject = command.reject;
  command.reject = (error: Error) => reject(!tracked[SENT] && error instanceof Error ? markNotSent(error) : error);
}

/** Installs the guard on `client` (a standalone, Sentinel or Cluster client). */
export function guardCommands(client: Redis | Cluster, options: CommandGuardOptions): void {
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
    track(command);
    const fatal = options.fatal?.();
    if (fatal) {
      command.reject(fatal);
      return command.promise;
    }
    const left = options.budgetLeft?.();
    if (left !== undefined && left <= 0) {
      command.reject(notSentError(`Time budget exhausted before ${command.name}`));
      return command.promise;
    }
    const timeoutMs = left === undefined ? options.timeoutMs : Math.min(options.timeoutMs, Math.ceil(left));
    if (timeoutMs > 0) command.setTimeout?.(timeoutMs);
    if (settled && OFFLINE.has(target.status) && (target.offlineQueue?.length ?? 0) >= options.maxOfflineQueue) {
      command.reject(
        notSentError(
          `Redis at ${options.address()} is not connected and ${options.maxOfflineQueue} commands are already queued (maxOfflineQueue); ${command.name} was rejected at once instead of waiting, so it did not run.`,
        ),
      );
      return command.promise;
    }
    if (target.status === 'ready') options.beforeSend?.();
    return original(command, stream, node);
  };
}
