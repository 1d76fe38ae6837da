/**
 * Errors of background loops (the view journal's worker, the jobs) repeat every
 * few hundred milliseconds while Redis is down. This prints the first of each
 * kind at once and then at most one line per 10 seconds saying how many more
 * there were, so an outage reads as a few lines, not a flood.
 */

const last = new Map<string, { at: number; suppressed: number }>();

/** Logs `message` under `topic`, throttled as above. */
export function quietError(topic: string, message: string): void {
  const now = Date.now();
  const seen = last.get(topic);
  if (seen && now - seen.at < 10_000) {
    seen.suppressed++;
    return;
  }
  const more = seen?.suppressed ? ` (and ${seen.suppressed} more like it)` : '';
  last.set(topic, { at: now, suppressed: 0 });
  console.error(`${topic}: ${message}${more}`);
}
