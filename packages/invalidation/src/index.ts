/**
 * @stratacache/invalidation: the invalidation bus, and delete / expire / TTL
 * invalidation by key, prefix, tag (eager or lazy) and dependency.
 */

export type { InvalidationBusOptions, InvalidationEvent } from './bus.js';
export { createInvalidationBus, InvalidationBus } from './bus.js';
export type { ResolvedInvalidationBusOptions } from './bus-options.js';
export { InvalidationChannels } from './diagnostics.js';
export type {
  BusClearEvent,
  BusConnectedEvent,
  BusDisconnectedEvent,
  BusDroppedEvent,
  BusGapEvent,
  BusPublishedEvent,
  BusPublishFailedEvent,
  BusReceivedEvent,
  InvalidatedEvent,
  InvalidationEvents,
  InvalidationEventsByKey,
  InvalidationOpName,
  InvalidationTarget,
  KeyspaceErrorEvent,
} from './events.js';
export type {
  EntryStamp,
  InvalidationCounts,
  InvalidationStrategy,
  InvalidatorOptions,
  TagMode,
  Verdict,
} from './invalidator.js';
export { createInvalidator, Invalidator } from './invalidator.js';
export type { ResolvedInvalidatorOptions } from './invalidator-options.js';
export type { KeyspaceOptions } from './keyspace.js';
export { listenToKeyspace } from './keyspace.js';
export type { GroupReport, SmartInvalidationOptions } from './smart.js';
export { createSmartInvalidation, SmartInvalidation } from './smart.js';
export type { ResolvedSmartInvalidationOptions } from './smart-options.js';
export type { LocalTarget } from './targets.js';
export type { InvalidationOp, WireMessage } from './wire.js';
export { parseWire, WIRE_VERSION } from './wire.js';
