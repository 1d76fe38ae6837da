/**
 * Events on `node:diagnostics_channel`, named `stratacache:core:<event>`.
 * Metrics (and anyone) subscribe by name, so no layer depends on metrics.
 * Messages never carry passwords or values.
 */
import { defineChannels } from './channels.js';

const core = defineChannels('core', {
  /** `{ client, mode }`: a connection became ready. */
  connect: 'connect',
  /** `{ client, attempt, delayMs }`: a reconnect is scheduled. */
  reconnect: 'reconnect',
  /** `{ client }`: a connection closed. */
  close: 'close',
  /**
   * `{ client, from, to, failures }`: the circuit breaker changed state (on Cluster: the summary of
   * the per-node breakers, open only while every node's breaker is open).
   */
  breaker: 'breaker',
  /** `{ client, node, from, to, failures }`: on Cluster, the breaker of one node (`host:port`) changed state. */
  nodeBreaker: 'node-breaker',
  /** `{ client, command, code, message }`: a command failed. */
  commandError: 'command-error',
  /** `{ client, downtimeMs, channels, patterns }`: the subscriber is back after a reconnect. */
  resubscribed: 'resubscribed',
  /**
   * `{ client, command, durationMs, ok }`: a `redis.run()` call (one verb, which may send several
   * commands) ended. Timed only while someone listens, so it costs nothing otherwise.
   */
  command: 'command',
  /** `{ client, script, message }`: SCRIPT LOAD failed; EVALSHA falls back to EVAL for that script. */
  scriptLoadError: 'script-load-error',
});

/** Channel names published by core-client. */
export const CoreChannels = core.names;

/** Publishes `message` on the named core channel when anyone listens. */
export function publishDiagnostic(name: keyof typeof CoreChannels, message: Record<string, unknown>): void {
  core.publish(name, message);
}

/** True when someone listens on the named core channel. */
export function listeningTo(name: keyof typeof CoreChannels): boolean {
  return core.listening(name);
}
