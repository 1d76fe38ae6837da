/** Errors of this package, on core-client's base so `StratacacheError.isInstance` recognises them. */
import { StratacacheError, type StratacacheErrorOptions } from '@stratacache/core-client';

/**
 * A store write was refused: the user is at `maxSessionsPerUser` with
 * `onLimit: 'reject'`. Only the express/fastify stores throw it (their
 * callback API has no other way to say no); the manager returns `{ created: false }`.
 */
export class SessionLimitError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_SESSION_LIMIT', message, options);
  }
}
