/**
 * One read shared by every gauge of a scrape: a scrape calls each gauge's
 * collect(), and ten gauges from one INFO must not send ten INFOs. The result
 * (or the failure) is reused for `ttlMs`; each read is bounded by `timeoutMs`.
 */
import { withTimeout } from './timeout.js';

/** A value read at most once per `ttlMs`, within `timeoutMs`. */
export class ScrapeCache<T> {
  private last: { at: number; value: Promise<T> } | undefined;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly timeoutMs: number,
    private readonly what = 'a scrape read',
  ) {}

  /** The cached value, or a new read when it is older than the TTL. */
  read(): Promise<T> {
    const now = performance.now();
    if (this.last && now - this.last.at < this.ttlMs) return this.last.value;
    const value = withTimeout(
      Promise.resolve().then(() => this.load()),
      this.timeoutMs,
      this.what,
    );
    value.catch(() => {}); // read by every caller; one failure is not an unhandled rejection
    this.last = { at: now, value };
    return value;
  }
}
