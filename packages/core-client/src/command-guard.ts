/**
 * The one wrapper around a connection's `sendCommand`: everything that must
 * happen when a command is issued, whatever issued it (`run()`, a pipeline,
 * `redis.client.get()` directly).
 *
 * - **Timeout from issue.** ioredis arms `commandTimeout` in a standalone
 *   client's sendCommand, but a Cluster queues commands before any node sees
 *   them, with no timer: the timer starts here. Under a time budget
 *   (`redis.budget()`) it is the budget's remaining time when that is shorter.
 *   The timer is ours, not ioredis's (one shared sweep for the usual
 *   lengths, see command-timeouts.ts): when it fires, the command still gets
 *   one poll phase of the event loop before it is called timed out. Node runs
 *   timers before I/O, so after the loop stalled (a long synchronous task, a
 *   GC pause, a starved CPU) a reply that arrived in time would otherwise
 *   lose to its own timer, and a burst of such false timeouts opens the
 *   circuit breaker while Redis is fine.
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
 * - **On Cluster, the breaker of the node** owning a keyed command's slot:
 *   an open one refuses the command before it is sent, and the command's
 *   final outcome (after ioredis's own redirections and retries) is counted
 *   against that node only (see cluster-breakers.ts).
 */
import type { Cluster, Redis } from 'ioredis';
import type { Admission } from './breaker.js';
import { OWN_TIMER_BELOW_MS, TimeoutSweep } from './command-timeouts.js';
import { StratacacheError } from './errors.js';

interface QueuedCommand {
  name: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  promise: Promise<unknown>;
  setTimeout?(ms: number): void;
  toWritable?(socket: unknown): unknown;
  /** ioredis's timer slot: its `_clearTimers()` clears it when the command settles. */
  _commandTimeoutTimer?: NodeJS.Timeout;
  /** ioredis 6: resolved or rejected; ioredis 5: resolved. */
  isSettled?: boolean;
  isResolved?: boolean;
}

/** Marks an error as one of a command that was never written to a socket. */
const NOT_SENT: unique symbol = Symbol.for('stratacache.notSent') as never;
const TRACKED = Symbol('stratacache.tracked');
const SENT = Symbol('stratacache.sent');
const REJECTED = Symbol('stratacache.rejected');
/** The Cluster node a command was admitted for, and how (`Admission`). */
const OWNER = Symbol('stratacache.owner');
const ADMISSION = Symbol('stratacache.admission');

/** Per-node breakers on Cluster, as the guard uses them (implemented by `ClusterBreaker`). */
export interface NodeGate {
  /** The node (`host:port`) serving the command's slot now; undefined when it has no key. */
  ownerOf(command: unknown): string | undefined;
  /** Admits a command for `node`, or returns the error to refuse it with. */
  admitNode(node: string): Admission | Error;
  /** The final outcome of a command admitted for `node` (`error` as ioredis rejected it). */
  settleNode(node: string, admission: Admission, error?: unknown): void;
}

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
  /** On Cluster: the per-node breakers every keyed command passes. */
  gate?: NodeGate;
}

/**
 * Tracks whether `command` is ever written, and marks its rejection when it
 * was not; with a gate, reports the final rejection to the node it was admitted for.
 */
function track(command: QueuedCommand, gate: NodeGate | undefined): void {
  const tracked = command as unknown as Record<symbol, unknown>;
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
  command.reject = (error: Error) => {
    tracked[REJECTED] = true;
    const owner = tracked[OWNER] as string | undefined;
    if (gate !== undefined && owner !== undefined) gate.settleNode(owner, tracked[ADMISSION] as Admission, error);
    reject(!tracked[SENT] && error instanceof Error ? markNotSent(error) : error);
  };
}

/**
 * Passes `command` through the breaker of its node: returns the error to
 * refuse it with, or undefined once admitted (its outcome is then reported).
 */
function admit(command: QueuedCommand, gate: NodeGate): Error | undefined {
  const tracked = command as unknown as Record<symbol, unknown>;
  // Sent again from an offline queue: admitted already.
  if (tracked[OWNER] !== undefined) return undefined;
  const owner = gate.ownerOf(command);
  if (owner === undefined) return undefined;
  const admission = gate.admitNode(owner);
  if (typeof admission !== 'string') return admission;
  tracked[OWNER] = owner;
  tracked[ADMISSION] = admission;
  if (admission === 'probe') {
    // Only the probe's success matters (it closes the breaker): no wrapper for every command.
    const resolve = command.resolve;
    command.resolve = (value: unknown) => {
      gate.settleNode(owner, admission);
      resolve(value);
    };
  }
  return undefined;
}

function isSettled(command: QueuedCommand): boolean {
  return (
    command.isSettled === true ||
    command.isResolved === true ||
    (command as unknown as Record<symbol, unknown>)[REJECTED] === true
  );
}

/**
 * A command whose time is up: rejected once `setImmediate` runs, after this
 * turn's poll phase, so replies that arrived during a stall of the event loop
 * are read (and resolve their commands) first. See the module comment.
 */
function expire(command: QueuedCommand): void {
  setImmediate(() => {
    if (!isSettled(command)) command.reject(new Error('Command timed out'));
  });
}

/** Timeouts of the usual length, watched by one sweep for the process (command-timeouts.ts). */
const sweep = new TimeoutSweep<QueuedCommand>({ settled: isSettled, expire });

/** What ioredis's timer slot holds for a swept command: truthy, so ioredis arms none; `clearTimeout` ignores it. */
const SWEPT = Object.freeze({ swept: true }) as unknown as NodeJS.Timeout;

/**
 * Arms the command timeout and fills ioredis's own slot, so ioredis (which
 * has `commandTimeout` too) does not arm a second one, and a command sent
 * again from an offline queue keeps its first deadline. Usual lengths go to
 * the shared sweep; short ones (a budget's remainder) get a timer of their
 * own, which ioredis clears when the command settles.
 */
function armTimeout(command: QueuedCommand, ms: number): void {
  if (command._commandTimeoutTimer !== undefined || typeof command.setTimeout !== 'function') return;
  if (ms >= OWN_TIMER_BELOW_MS) {
    command._commandTimeoutTimer = SWEPT;
    sweep.add(command, ms);
  } else {
    command._commandTimeoutTimer = setTimeout(() => expire(command), ms);
  }
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
  const gate = options.gate;
  target.sendCommand = (command, stream, node) => {
    track(command, gate);
    const fatal = options.fatal?.();
    if (fatal) {
      command.reject(fatal);
      return command.promise;
    }
    if (gate !== undefined) {
      const refused = admit(command, gate);
      if (refused !== undefined) {
        command.reject(refused);
        return command.promise;
      }
    }
    const left = options.budgetLeft?.();
    if (left !== undefined && left <= 0) {
      command.reject(notSentError(`Time budget exhausted before ${command.name}`));
      return command.promise;
    }
    const timeoutMs = left === undefined ? options.timeoutMs : Math.min(options.timeoutMs, Math.ceil(left));
    if (timeoutMs > 0) armTimeout(command, timeoutMs);
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
