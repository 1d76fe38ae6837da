/**
 * The error model of stratacache (DESIGN.md, Errors): one base with a stable
 * `code`, `context` and `cause`, recognised across packages and duplicate
 * installs by the `Symbol.for('stratacache.error')` marker, which
 * `@stratacache/serializers` errors carry too.
 *
 * Expected outcomes (a denied rate limit, a lock held by another) are data,
 * never errors; these classes are for faults.
 *
 * Serialization errors are not here: they come from `@stratacache/serializers`
 * (`SerializationError`, codes `E_SERIALIZATION_*`), which depends on nothing
 * of ours and carries the same marker, so `StratacacheError.isInstance()`
 * recognises them too.
 */

/** The marker every stratacache error carries, shared through `Symbol.for`. */
export const STRATACACHE_ERROR_MARKER: unique symbol = Symbol.for('stratacache.error') as never;

/** Options of every stratacache error. */
export interface StratacacheErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** Facts about the failure: command name, key, timeout. Never a password or a value. */
  context?: Record<string, unknown>;
}

/** Base of every stratacache error. */
export class StratacacheError extends Error {
  /** Stable machine-readable code (`E_...`). */
  readonly code: string;
  /** Facts about the failure. */
  readonly context: Readonly<Record<string, unknown>>;
  declare readonly [STRATACACHE_ERROR_MARKER]: true;

  constructor(code: string, message: string, options: StratacacheErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = Object.freeze({ ...(options.context ?? {}) });
    Object.defineProperty(this, STRATACACHE_ERROR_MARKER, { value: true, enumerable: false });
  }

  /** True for an error of any stratacache package, from any installed copy. */
  static isInstance(value: unknown): value is StratacacheError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[STRATACACHE_ERROR_MARKER] === true
    );
  }
}

/** Redis cannot be reached, or the connection dropped before a reply. */
export class ConnectionError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_CONNECTION', message, options);
  }
}

/**
 * A command got no reply within its timeout. The outcome is **unknown**: the
 * command may have been applied. Retry only what is idempotent.
 */
export class TimeoutError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_TIMEOUT', message, options);
  }
}

/** Reading from Redis failed for a reason other than the connection (a wrong type, a server error). */
export class ReadError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_READ', message, options);
  }
}

/** Writing to Redis failed for a reason other than the connection (OOM, READONLY replica, wrong type). */
export class WriteError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_WRITE', message, options);
  }
}

/** Data in Redis contradicts an invariant (a version went backwards, a lease was lost). */
export class ConsistencyError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_CONSISTENCY', message, options);
  }
}

/** An option or environment variable is invalid; the message names it. */
export class ConfigError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_CONFIG', message, options);
  }
}

/** A Lua script failed, or was called with the wrong number of keys. */
export class ScriptError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_SCRIPT', message, options);
  }
}

/** A key is invalid: too long, or built from parts that are not allowed. */
export class KeyError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_KEY', message, options);
  }
}

/**
 * The client was closed with `close()`: the call was not sent. Not an
 * availability failure: the circuit breaker ignores it.
 */
export class ClientClosedError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_CLOSED', message, options);
  }
}

/** The circuit breaker is open: Redis was failing, so the call was not attempted. */
export class CircuitOpenError extends StratacacheError {
  constructor(message: string, options?: StratacacheErrorOptions) {
    super('E_CIRCUIT_OPEN', message, options);
  }
}

/** Every error class by name, for `instanceof`-free dispatch and documentation. */
export const errors = Object.freeze({
  StratacacheError,
  ConnectionError,
  TimeoutError,
  ReadError,
  WriteError,
  ConsistencyError,
  ConfigError,
  ScriptError,
  KeyError,
  ClientClosedError,
  CircuitOpenError,
});

/** Every error code, by class. */
export const ErrorCode = Object.freeze({
  Connection: 'E_CONNECTION',
  Timeout: 'E_TIMEOUT',
  Read: 'E_READ',
  Write: 'E_WRITE',
  Consistency: 'E_CONSISTENCY',
  Config: 'E_CONFIG',
  Script: 'E_SCRIPT',
  Key: 'E_KEY',
  Closed: 'E_CLOSED',
  CircuitOpen: 'E_CIRCUIT_OPEN',
} as const);
