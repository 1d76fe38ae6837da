/**
 * The public surface of @stratacache/invalidation, name by name, for every entry
 * point: a plain sorted list, so that adding, removing or renaming an export
 * is a visible, reviewed change in the diff. `values` are what `import`
 * gives at run time; `types` are the type-only exports (read with the
 * TypeScript compiler).
 */
import { describePublicSurface, type PublicSurface } from '@stratacache/test-utils';

const SURFACE: PublicSurface = {
  '.': {
    file: '../src/index.ts',
    values: [
      'InvalidationBus',
      'InvalidationChannels',
      'Invalidator',
      'SmartInvalidation',
      'WIRE_VERSION',
      'createInvalidationBus',
      'createInvalidator',
      'createSmartInvalidation',
      'listenToKeyspace',
      'parseWire',
    ],
    types: [
      'BusClearEvent',
      'BusConnectedEvent',
      'BusDisconnectedEvent',
      'BusDroppedEvent',
      'BusGapEvent',
      'BusPublishFailedEvent',
      'BusPublishedEvent',
      'BusReceivedEvent',
      'EntryStamp',
      'GroupReport',
      'InvalidatedEvent',
      'InvalidationBusOptions',
      'InvalidationCounts',
      'InvalidationEvent',
      'InvalidationEvents',
      'InvalidationEventsByKey',
      'InvalidationOp',
      'InvalidationOpName',
      'InvalidationStrategy',
      'InvalidationTarget',
      'InvalidatorOptions',
      'KeyspaceErrorEvent',
      'KeyspaceOptions',
      'LocalTarget',
      'ResolvedInvalidationBusOptions',
      'ResolvedInvalidatorOptions',
      'ResolvedSmartInvalidationOptions',
      'SmartInvalidationOptions',
      'TagMode',
      'Verdict',
      'WireMessage',
    ],
  },
};

describePublicSurface(SURFACE, import.meta.url);
