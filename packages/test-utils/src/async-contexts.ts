/**
 * Counts `AsyncLocalStorage` contexts entered while a test runs. On Node 20
 * the first `AsyncLocalStorage.run()` of a process installs promise hooks
 * that make every later promise of the process slower, so a library verb must
 * never enter one; tests run the verbs under this watch and expect zero.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What {@link watchAsyncContexts} saw. */
export interface AsyncContextWatch {
  /** `run()` and `enterWith()` calls since the watch started, by anyone in this process. */
  readonly entered: number;
  /** Where each entry came from (the first stack lines), to name the culprit in a failure. */
  readonly callers: readonly string[];
  /** Puts `AsyncLocalStorage.prototype` back as it was. */
  restore(): void;
}

/** Patches `AsyncLocalStorage.prototype.run` and `enterWith` to count calls until `restore()`. */
export function watchAsyncContexts(): AsyncContextWatch {
  const proto = AsyncLocalStorage.prototype as unknown as Record<'run' | 'enterWith', (...args: unknown[]) => unknown>;
  const original = { run: proto.run, enterWith: proto.enterWith };
  const callers: string[] = [];
  const note = () => callers.push((new Error().stack ?? '').split('\n').slice(3, 7).join('\n'));
  proto.run = function (this: unknown, ...args: unknown[]) {
    note();
    return original.run.apply(this, args);
  };
  proto.enterWith = function (this: unknown, ...args: unknown[]) {
    note();
    return original.enterWith.apply(this, args);
  };
  return {
    get entered() {
      return callers.length;
    },
    callers,
    restore() {
      proto.run = original.run;
      proto.enterWith = original.enterWith;
    },
  };
}
