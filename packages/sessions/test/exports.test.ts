/**
 * The public surface of @stratacache/sessions, name by name, for every entry
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
      'SESSION_ID_LENGTH',
      'SessionChannels',
      'SessionLimitError',
      'SessionManager',
      'createSessionManager',
      'generateSessionId',
      'isWellFormedId',
    ],
    types: [
      'BindingWarning',
      'CreateResult',
      'EncryptionKey',
      'EncryptionOptions',
      'GetOptions',
      'InvalidReason',
      'InvalidSession',
      'IpBindingMode',
      'IpBindingOptions',
      'LimitPolicy',
      'PutOptions',
      'PutResult',
      'RegenerateOptions',
      'RequestContext',
      'ResolvedSessionOptions',
      'Secret',
      'Session',
      'SessionBindingMismatchEvent',
      'SessionCreatedEvent',
      'SessionDestroyedEvent',
      'SessionEvents',
      'SessionEventsByKey',
      'SessionEvictedEvent',
      'SessionExpiredEvent',
      'SessionInfo',
      'SessionManagerOptions',
      'SessionRefusedEvent',
      'SessionRegeneratedEvent',
      'SessionRejectedEvent',
      'SessionStats',
      'SessionTamperedEvent',
      'SessionTimes',
    ],
  },
  './express': {
    file: '../src/express.ts',
    values: ['CallbackStore', 'cookieTtl', 'createExpressStore'],
    types: ['ExpressStoreMethods', 'SessionStoreOptions', 'StoreCallback', 'StoredSession'],
  },
  './fastify': {
    file: '../src/fastify.ts',
    values: ['CallbackStore', 'cookieTtl', 'createFastifyStore'],
    types: ['SessionStoreOptions', 'StoreCallback', 'StoredSession'],
  },
};

describePublicSurface(SURFACE, import.meta.url);
