/**
 * One helper for every layer's `node:diagnostics_channel` events, so each
 * package declares its channels in one table instead of repeating the
 * name-building, lookup and "anyone listening?" code.
 *
 * Channels are named `stratacache:<package>:<event>`. Metrics (and anyone)
 * subscribe by that name, so no layer depends on metrics. Publishing costs
 * one property read when nobody listens; `listening()` lets a caller skip
 * building a message (or timing a command) altogether.
 */
import { type Channel, channel } from 'node:diagnostics_channel';
import { ConfigError } from './errors.js';

/** The full channel names of a {@link defineChannels} table, typed as literals. */
export type ChannelNames<P extends string, E extends Record<string, string>> = {
  readonly [K in keyof E]: `stratacache:${P}:${E[K]}`;
};

/** What {@link defineChannels} returns. */
export interface ChannelSet<P extends string, E extends Record<string, string>> {
  /** Full channel names by event, frozen: `names.acquired === 'stratacache:coordination:lock-acquired'`. */
  readonly names: ChannelNames<P, E>;
  /** Publishes `message` on `event` when anyone listens (a no-op otherwise). */
  publish(event: keyof E, message: Record<string, unknown>): void;
  /** True when someone listens on `event`: check it before building a costly message. */
  listening(event: keyof E): boolean;
}

const NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Declares the channels of package `pkg`: `events` maps a short key used in
 * code to the event's name on the wire (kebab-case).
 *
 * @example
 * ```ts
 * const diagnostics = defineChannels('coordination', { acquired: 'lock-acquired', released: 'lock-released' });
 * diagnostics.names.acquired; // 'stratacache:coordination:lock-acquired'
 * if (diagnostics.listening('acquired')) diagnostics.publish('acquired', { lock: 'report', waitMs: 3 });
 * ```
 */
export function defineChannels<const P extends string, const E extends Record<string, string>>(
  pkg: P,
  events: E,
): ChannelSet<P, E> {
  if (!NAME.test(pkg)) throw new ConfigError(`defineChannels: package must be kebab-case; got ${JSON.stringify(pkg)}`);
  const names: Record<string, string> = {};
  const channels: Record<string, Channel> = {};
  for (const [key, event] of Object.entries(events)) {
    if (!NAME.test(event)) {
      throw new ConfigError(`defineChannels: event ${key} must be kebab-case; got ${JSON.stringify(event)}`);
    }
    names[key] = `stratacache:${pkg}:${event}`;
    channels[key] = channel(names[key]);
  }
  return {
    names: Object.freeze(names) as ChannelNames<P, E>,
    publish(event, message) {
      const target = channels[event as string];
      if (target?.hasSubscribers) target.publish(message);
    },
    listening(event) {
      return channels[event as string]?.hasSubscribers ?? false;
    },
  };
}
