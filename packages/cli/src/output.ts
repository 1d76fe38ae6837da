/**
 * Output: a plain-text table for people, or JSON for scripts (`--json`).
 * Values are turned into JSON-safe data first (BigInt, Map, Set, Date,
 * Buffer), so what the table shows and what `--json` prints agree.
 */

/** A value made JSON-safe: BigInt as a string, Map and Set as arrays, Buffers as base64, Dates as ISO. */
export function plain(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined || value === null || typeof value !== 'object') {
    return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
  }
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') };
  if (value instanceof Map) return [...value].map(([k, v]) => [plain(k, seen), plain(v, seen)]);
  if (value instanceof Set) return [...value].map((v) => plain(v, seen));
  if (Array.isArray(value)) return value.map((v) => plain(v, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = plain(v, seen);
  return out;
}

/** One cell: strings as they are, everything else as compact JSON. */
function cell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'string') return value;
  return JSON.stringify(plain(value));
}

/** Rows as an aligned table; `columns` fixes the order (default: the keys of the first row). */
export function table(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  if (rows.length === 0) return '(none)';
  const cols = columns ?? Object.keys(rows[0] as object);
  const cells = rows.map((row) => cols.map((c) => cell(row[c]).replace(/\s*\n\s*/g, ' ')));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] as string).length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/** A record as `name  value` lines. */
export function fields(record: Record<string, unknown>): string {
  const entries = Object.entries(record).filter(([, v]) => v !== undefined);
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n');
}

/** Milliseconds as people read a TTL: `-` (none), `expired`, `850 ms`, `42 s`, `1 h 5 min`. */
export function ttl(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms === -1) return 'none';
  if (ms === -2 || ms < 0) return 'gone';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** An epoch-ms time as ISO, or `-`. */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return ms === Number.POSITIVE_INFINITY ? 'never' : '-';
  return new Date(ms).toISOString();
}
