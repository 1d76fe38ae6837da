/**
 * The insurance limiter: a fixed-window counter in process memory, used only
 * while Redis cannot answer. Bounded: at most `maxIds` identities are kept
 * (the oldest window is dropped first), so an outage cannot grow memory.
 */
export class MemoryLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly limit: number,
    private readonly windowMs: number,
    private readonly maxIds = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Counts `cost` for `id`; the same result shape as the Redis limiters. */
  take(id: string, cost: number): { allowed: boolean; remaining: number; resetMs: number; retryAfterMs: number } {
    const now = this.now();
    let window = this.windows.get(id);
    if (!window || now - window.start >= this.windowMs) {
      window = { start: now, count: 0 };
      this.windows.delete(id);
      this.windows.set(id, window);
      if (this.windows.size > this.maxIds) this.windows.delete(this.windows.keys().next().value as string);
    }
    const resetMs = Math.max(0, Math.ceil(window.start + this.windowMs - now));
    if (window.count + cost > this.limit) {
      return { allowed: false, remaining: Math.max(0, this.limit - window.count), resetMs, retryAfterMs: resetMs };
    }
    window.count += cost;
    return { allowed: true, remaining: this.limit - window.count, resetMs, retryAfterMs: 0 };
  }

  /** Forgets `id`. */
  reset(id: string): void {
    this.windows.delete(id);
  }
}
