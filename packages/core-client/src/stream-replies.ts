/**
 * Parsers for Redis Stream replies (XREAD, XREADGROUP, XRANGE, XCLAIM,
 * XAUTOCLAIM, XPENDING, XINFO GROUPS) that give the same result whatever the
 * connection speaks: RESP2 nested arrays, RESP3 maps as ioredis 6 delivers them
 * (flat `[key, value, ...]` arrays with `replyMapping: 'legacy'`, plain objects
 * with `'resp3'`, or a `Map`), strings or Buffers (`callBuffer`).
 */

/** A value as a reply holds it: a string, or a Buffer from `callBuffer`. */
export type ReplyValue = string | Buffer;

/** One stream entry. `fields` is null for an entry deleted while pending (XREADGROUP of a PEL, XCLAIM). */
export interface StreamEntry<V extends ReplyValue = ReplyValue> {
  id: string;
  fields: Map<string, V> | null;
}

/** One row of the extended XPENDING form (`XPENDING key group [IDLE ms] start end count [consumer]`). */
export interface PendingEntry {
  id: string;
  consumer: string;
  idleMs: number;
  deliveries: number;
}

/** What XAUTOCLAIM answers. `deleted` is empty before Redis 7, which does not report them. */
export interface AutoClaimReply<V extends ReplyValue = ReplyValue> {
  /** Where the next call starts; `'0-0'` once the whole PEL was scanned. */
  cursor: string;
  entries: StreamEntry<V>[];
  /** IDs that were pending but no longer exist in the stream (Redis removed them from the PEL). */
  deleted: string[];
}

/** One consumer group as XINFO GROUPS describes it (`entriesRead` and `lag` are null before Redis 7). */
export interface StreamGroupInfo {
  name: string;
  consumers: number;
  pending: number;
  lastDeliveredId: string;
  entriesRead: number | null;
  /** Entries not yet delivered to the group; null when Redis cannot tell (7.0+ only). */
  lag: number | null;
}

const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString() : String(value));

const isScalar = (value: unknown): value is ReplyValue => typeof value === 'string' || Buffer.isBuffer(value);

/**
 * The pairs of a RESP3 map or a RESP2 flat list: a `Map`, a plain object, or
 * a flat `[key, value, key, value]` array. Anything else gives no pairs.
 */
export function mapReplyEntries(reply: unknown): [string, unknown][] {
  if (reply instanceof Map) return [...reply.entries()].map(([k, v]) => [text(k), v]);
  if (Array.isArray(reply)) {
    const pairs: [string, unknown][] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([text(reply[i]), reply[i + 1]]);
    return pairs;
  }
  if (reply !== null && typeof reply === 'object' && !Buffer.isBuffer(reply)) {
    return Object.entries(reply as Record<string, unknown>);
  }
  return [];
}

/**
 * Entries of an XRANGE / XCLAIM reply, or of one stream in an XREAD reply:
 * `[[id, [field, value, ...]], ...]`; a null field list (a deleted entry) is kept as `fields: null`.
 */
export function parseStreamEntries<V extends ReplyValue = ReplyValue>(list: unknown): StreamEntry<V>[] {
  if (!Array.isArray(list)) return [];
  const entries: StreamEntry<V>[] = [];
  for (const item of list) {
    if (!Array.isArray(item) || item.length === 0) continue;
    const flat = item[1];
    let fields: Map<string, V> | null = null;
    if (Array.isArray(flat)) {
      fields = new Map();
      for (let i = 0; i + 1 < flat.length; i += 2) fields.set(text(flat[i]), flat[i + 1] as V);
    } else if (flat !== null && flat !== undefined && !isScalar(flat)) {
      // A RESP3 client mapping field lists as maps (not what Redis sends today, but harmless to accept).
      fields = new Map(mapReplyEntries(flat) as [string, V][]);
    }
    entries.push({ id: text(item[0]), fields });
  }
  return entries;
}

/**
 * The entries of every stream in an XREAD / XREADGROUP reply, by stream key,
 * in reply order. A null reply (nothing new, or BLOCK timed out) gives an empty map.
 */
export function parseStreamsReply<V extends ReplyValue = ReplyValue>(reply: unknown): Map<string, StreamEntry<V>[]> {
  const streams = new Map<string, StreamEntry<V>[]>();
  if (reply === null || reply === undefined) return streams;
  // RESP2: [[key, entries], ...]. Everything else is a map: flat array, object or Map.
  const pairs =
    Array.isArray(reply) && Array.isArray(reply[0])
      ? (reply as unknown[][]).map((pair) => [text(pair[0]), pair[1]] as [string, unknown])
      : mapReplyEntries(reply);
  for (const [key, list] of pairs) streams.set(key, parseStreamEntries<V>(list));
  return streams;
}

/** An XAUTOCLAIM reply: `[cursor, entries]` (6.2) or `[cursor, entries, deletedIds]` (7.0+). */
export function parseAutoClaimReply<V extends ReplyValue = ReplyValue>(reply: unknown): AutoClaimReply<V> {
  if (!Array.isArray(reply) || reply.length < 2) return { cursor: '0-0', entries: [], deleted: [] };
  const deleted = Array.isArray(reply[2]) ? (reply[2] as unknown[]).map(text) : [];
  return { cursor: text(reply[0]), entries: parseStreamEntries<V>(reply[1]), deleted };
}

/** The rows of an extended XPENDING reply: `[[id, consumer, idleMs, deliveries], ...]`. */
export function parsePendingReply(reply: unknown): PendingEntry[] {
  if (!Array.isArray(reply)) return [];
  return reply
    .filter((row): row is unknown[] => Array.isArray(row) && row.length >= 4)
    .map((row) => ({
      id: text(row[0]),
      consumer: text(row[1]),
      idleMs: Number(text(row[2])),
      deliveries: Number(text(row[3])),
    }));
}

/** An XINFO GROUPS reply: one map per group. */
export function parseGroupsReply(reply: unknown): StreamGroupInfo[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((group) => {
    const fields = new Map(mapReplyEntries(group));
    const num = (name: string): number | null => {
      const value = fields.get(name);
      if (value === null || value === undefined) return null;
      const parsed = Number(text(value));
      return Number.isFinite(parsed) ? parsed : null;
    };
    return {
      name: text(fields.get('name') ?? ''),
      consumers: num('consumers') ?? 0,
      pending: num('pending') ?? 0,
      lastDeliveredId: text(fields.get('last-delivered-id') ?? '0-0'),
      entriesRead: num('entries-read'),
      lag: num('lag'),
    };
  });
}
