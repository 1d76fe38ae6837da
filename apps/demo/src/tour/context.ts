/**
 * What every tour step gets: where the demo is, a way to narrate, and a way to
 * record what it expected. The CLI (`pnpm demo:tour`) prints both; the
 * end-to-end test runs the same steps silently and asserts on their results.
 */
import type { DemoState } from '../launcher/state-file.js';

/** One expectation of a step, and whether it held. */
export interface Check {
  step: string;
  what: string;
  ok: boolean;
}

/** The context of a tour run. */
export interface TourContext {
  /** Instance a's and b's base URLs. */
  a: string;
  b: string;
  redis: DemoState['redis'];
  /**
   * The loopback address this run sends from (127.0.0.x): per-client limits
   * and session bindings of an earlier run do not leak into this one.
   */
  clientAddress: string;
  /** Another loopback address, for "the same cookie from somewhere else". */
  otherAddress: string;
  /** Narration. */
  say(line?: string): void;
  /** Records `ok` for `what` under the current step; returns `ok`. */
  check(ok: boolean, what: string): boolean;
  /** Starts a step (a heading in the CLI). */
  step(title: string): void;
  readonly checks: Check[];
}

/** A context that narrates through `print` (or stays silent without it). */
export function createContext(state: DemoState, print?: (line: string) => void): TourContext {
  const [a, b] = state.instances;
  if (!a || !b) throw new Error('the demo state lists fewer than two instances');
  const checks: Check[] = [];
  let current = '';
  // 127.0.0.10 to 127.0.0.249 (Linux answers on the whole 127/8 range), by the second the run starts
  // rather than at random: a run right after another (a tour takes more than a second) never gets the
  // address whose login limit (5 a minute) an earlier run used up; an address comes back only after
  // 120 s, when every limit of its earlier run has expired. Even for this run, odd for its other address.
  const host = 10 + 2 * (Math.floor(Date.now() / 1000) % 120);
  const bold = (s: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[0m` : s);
  return {
    a: a.url,
    b: b.url,
    redis: state.redis,
    clientAddress: `127.0.0.${host}`,
    otherAddress: `127.0.0.${host + 1}`,
    checks,
    say: (line = '') => print?.(line),
    step(title) {
      current = title;
      print?.('');
      print?.(bold(`== ${title}`));
    },
    check(ok, what) {
      checks.push({ step: current, what, ok });
      print?.(`   ${ok ? 'ok  ' : 'FAIL'}  ${what}`);
      return ok;
    },
  };
}

/** `x-cache` with its tier, as the tour prints it: `hit (memory)`. */
export function verdict(headers: Record<string, string>): string {
  const v = headers['x-cache'] ?? '(none)';
  const detail = headers['x-cache-tier'] ?? headers['x-cache-reason'];
  return detail ? `${v} (${detail})` : v;
}

/** Milliseconds, rounded for printing. */
export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}
