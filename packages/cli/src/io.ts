/** Where a command writes, and the environment it reads: process's own in the bin, captured in tests. */
export interface Io {
  /** Writes a line (or lines) of output. */
  out(text: string): void;
  /** Writes an error or warning. */
  err(text: string): void;
  /** The environment (REDIS_URL, REDIS_NS, ...), as the library reads it. */
  env: Record<string, string | undefined>;
}

/** An error the user can fix (a missing argument, a bad option): exit code 2 with the usage hint. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
