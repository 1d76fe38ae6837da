/** Window arithmetic on event time: which windows a time falls in, and offset order. */

/**
 * Starts of the windows of `sizeMs`, every `hopMs`, aligned to the epoch, that
 * contain `time` (one for tumbling windows, `ceil(size / hop)` at most for hopping), oldest first.
 */
export function windowStarts(time: number, sizeMs: number, hopMs: number): number[] {
  const last = Math.floor(time / hopMs) * hopMs;
  const starts: number[] = [];
  for (let start = last; start > time - sizeMs; start -= hopMs) starts.push(start);
  return starts.reverse();
}

/**
 * Orders two offsets of one partition: Kafka offsets (`'42'`) or stream entry
 * IDs (`'1700000000000-3'`), compared part by part as numbers. The Lua script
 * compares the same way.
 */
export function compareOffsets(a: string, b: string): number {
  const [a1, a2] = offsetParts(a);
  const [b1, b2] = offsetParts(b);
  if (a1 !== b1) return a1 < b1 ? -1 : 1;
  if (a2 !== b2) return a2 < b2 ? -1 : 1;
  return 0;
}

function offsetParts(offset: string): [number, number] {
  const dash = offset.indexOf('-');
  return dash < 0 ? [Number(offset), 0] : [Number(offset.slice(0, dash)), Number(offset.slice(dash + 1))];
}
