/**
 * Command timeouts without a timer per command. A Node timer costs more than
 * it seems when commands run one after another: `setTimeout` allocates a
 * Timeout with an async id, reads libuv's clock, creates the list of its
 * duration and refs the timer handle, and `clearTimeout` on the reply undoes
 * all of it (the list empties each time), four calls into C++ per command.
 * Here a command costs one clock read and two array pushes; one shared sweep
 * runs every {@link SWEEP_MS} while commands are out, and stops once none is.
 *
 * A timeout fires between its deadline and {@link SWEEP_MS} later (plus the
 * event loop's own delays, as for any timer). Timeouts shorter than
 * {@link OWN_TIMER_BELOW_MS} keep a timer of their own, where that lateness
 * would be a large share. The sweep reads the real clock, so a stalled loop
 * cannot make a timeout fire early or late by the length of the stall.
 */

/** How often the sweep runs while commands are out, ms. */
export const SWEEP_MS = 25;
/** Timeouts shorter than this get a timer of their own, ms. */
export const OWN_TIMER_BELOW_MS = 250;

/** What the sweep asks of the commands it watches (no wrapper object per command). */
export interface SweepRules<C> {
  /** True once `command` was resolved or rejected (it is then dropped). */
  settled(command: C): boolean;
  /** Called once `command`'s deadline passed while it was still out. */
  expire(command: C): void;
}

/** The commands out, with their deadlines; one sweep for all the clients that share it. */
export class TimeoutSweep<C> {
  private commands: C[] = [];
  private deadlines: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly tick = () => this.sweep(performance.now());

  constructor(private readonly rules: SweepRules<C>) {}

  /** Watches `command` until it settles; `expire` is called if it is still out `ms` from now. */
  add(command: C, ms: number): void {
    this.commands.push(command);
    this.deadlines.push(performance.now() + ms);
    // Kept referenced like the per-command timers it replaces: an outstanding command keeps the process up.
    this.timer ??= setInterval(this.tick, SWEEP_MS);
  }

  /** Commands being watched (settled ones leave at the next sweep). */
  get size(): number {
    return this.commands.length;
  }

  /** Drops settled commands and expires the overdue ones; stops when none is left. */
  sweep(now: number): void {
    const { commands, deadlines, rules } = this;
    let kept = 0;
    let expired: C[] | undefined;
    for (let i = 0; i < commands.length; i++) {
      const command = commands[i] as C;
      if (rules.settled(command)) continue;
      const deadline = deadlines[i] as number;
      if (deadline <= now) {
        if (expired === undefined) expired = [command];
        else expired.push(command);
        continue;
      }
      commands[kept] = command;
      deadlines[kept] = deadline;
      kept++;
    }
    commands.length = kept;
    deadlines.length = kept;
    if (kept === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    if (expired !== undefined) for (const command of expired) rules.expire(command);
  }
}
