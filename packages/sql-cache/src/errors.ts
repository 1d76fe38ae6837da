/**
 * Errors of sql-cache: core-client's `StratacacheError` subclasses with
 * stable `E_` codes. A database error is never wrapped: the driver's own
 * error reaches the caller as the driver threw it.
 */
import { StratacacheError, type StratacacheErrorOptions } from '@stratacache/core-client';

/**
 * Transaction control that sql-cache cannot follow: `BEGIN` / `COMMIT` sent
 * through a pool (each statement may run on another connection), or a
 * statement on a transaction or connection that has ended. Code `E_SQL_TRANSACTION`.
 */
export class TransactionStateError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_SQL_TRANSACTION', message, options);
  }
}
