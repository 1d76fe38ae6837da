/**
 * Events on `node:diagnostics_channel`, named `stratacache:core:<event>`.
 * Metrics (and anyone) subscribe by name, so no layer depends on metrics.
 * Messages never carry passwords or values.
 */
import { channel } from 'node:diagnostics_channel';

/** Channel names published by core-client. */
export const CoreChannels = Object.freeze({
  /** `{ client, mode }`: a connection became ready. */
  connect: 'stratacache:core:connect',
  /** `{ client, attempt, delayMs }`: a reconnect is scheduled. */
  reconnect: 'stratacache:core:reconnect',
  /** `{ client }`: a connection closed. */
  close: 'stratacache:core:close',
  /** `{ client, from, to, failures }`: the circuit breaker changed state. */
  breaker: 'stratacache:core:breaker',
  /** `{ client, command, code, message }`: a command failed. */
  commandError: 'stratacache:core:command-error',
  /** `{ client, downtimeMs, channels, patterns }`: the subscriber is back after a reconnect. */
  resubscribed: 'stratacache:core:resubscribed',
  /** `{ client, script, message }`: SCRIPT LOAD failed; EVALSHA falls back to EVAL for that script. */
  scriptLoadError: 'stratacache:core:script-load-error',
});

const channels = {
  connect: channel(CoreChannels.connect),
  reconnect: channel(CoreChannels.reconnect),
  close: channel(CoreChannels.close),
  breaker: channel(CoreChannels.breaker),
  commandError: channel(CoreChannels.commandError),
  resubscribed: channel(CoreChannels.resubscribed),
  scriptLoadError: channel(CoreChannels.scriptLoadError),
};

/** Publishes `message` on the named core channel when anyone listens. */
export function publishDiagnostic(name: keyof typeof CoreChannels, message: Record<string, unknown>): void {
  const target = channels[name];
  if (target.hasSubscribers) target.publish(message);
}
