/**
 * @stratacache/cli: the `stratacache` command. `run(argv, io)` is the same
 * command as a function, for scripts and tests that want it in process.
 */
export type { InspectReport } from './commands/inspect.js';
export type { InvalidateReport } from './commands/invalidate.js';
export type { HeldLock } from './commands/locks.js';
export type { ScannedKey } from './commands/scan.js';
export type { DecodedValue, EntryHeader, EnvelopeInfo } from './entry.js';
export { describeValue, readEntry } from './entry.js';
export type { Io } from './io.js';
export { run, USAGE } from './main.js';
