/**
 * The journal's wire format: the fields of an entry in the journal Stream and
 * in the dead-letter Stream, how an entry is encoded and decoded, and how the
 * entries are found in XREADGROUP / XAUTOCLAIM / XRANGE replies (RESP2 and
 * RESP3). Field names are one letter because every journaled write carries
 * them; they are spelled out once, in {@link JOURNAL_SCHEMA}, and nowhere else
 * in TypeScript. Journals already in Redis were written with these names, so
 * renaming one would strand them: the names are the format, not a detail.
 */
import type { Serializer } from '@stratacache/serializers';

/** What a journal entry asks the writer to do with its key. */
export type WriteBehindOp = 'set' | 'delete';

/** One write handed to the writer. */
export interface WriteBehindEntry<T> {
  /** The application key given to `write()` or `delete()`. */
  key: string;
  /** The value written; `undefined` for a delete. */
  value: T | undefined;
  /** `'set'` or `'delete'`. */
  op: WriteBehindOp;
  /** When the write was journaled, in ms since the epoch (the writing process's clock). */
  at: number;
  /**
   * The journal (Stream) id, such as `'1718000000000-3'`. Ids only grow within a
   * journal, so a writer that must never let an older value overwrite a newer one
   * (after a crash, or with several workers) stores it and compares with
   * {@link compareJournalIds}.
   */
  id: string;
}

/** An entry of the dead-letter stream, as `WriteBehind.deadLetters()` returns it. */
export interface WriteBehindDeadLetter<T> extends WriteBehindEntry<T> {
  /** Its id in the dead-letter stream (the journal id is `id`). */
  deadId: string;
  /** `'writer'` or `'decode'`. */
  reason: string;
  /** The last error's message. */
  error: string;
  /** Writer attempts made. */
  attempts: number;
  /** The consumer that parked it. */
  consumer: string;
  /** When it was parked, ms since the epoch. */
  failedAt: number;
}

/**
 * The Stream field names and codes of the journal and the dead-letter stream.
 * `lua/write-behind-append-1.lua` writes the `entry` fields too (Lua cannot
 * import this object): change both or neither, and never for a journal that
 * may still hold entries. `test/write-behind.test.ts` pins the names.
 */
export const JOURNAL_SCHEMA = Object.freeze({
  /** Fields of a journal entry (also copied into its dead letter). */
  entry: Object.freeze({
    /** The application key given to `write()` / `delete()`, UTF-8. */
    key: 'k',
    /** What to do with the key: one of {@link JOURNAL_SCHEMA.ops}. */
    op: 'o',
    /** The value in the serializer's envelope; empty for a delete. */
    value: 'v',
    /** When the write was journaled: ms since the epoch, decimal, the writing process's clock. */
    at: 't',
  }),
  /** The codes stored in the `op` field. */
  ops: Object.freeze({
    /** A `write(key, value)`. */
    set: 's',
    /** A `delete(key)`. */
    delete: 'd',
  }),
  /** Fields a dead letter has besides the `entry` fields. */
  deadLetter: Object.freeze({
    /** The entry's id in the journal (the dead letter has an id of its own). */
    journalId: 'j',
    /** Why it was parked: `'writer'` (the writer failed `maxAttempts` times) or `'decode'` (unreadable). */
    reason: 'r',
    /** The last error's message, at most 1,000 characters. */
    error: 'e',
    /** Writer attempts made, decimal (0 for `'decode'`). */
    attempts: 'a',
    /** The consumer name of the worker that parked it. */
    consumer: 'c',
    /** When it was parked: ms since the epoch, decimal, the parking worker's clock. */
    failedAt: 'f',
  }),
});

const FIELD = JOURNAL_SCHEMA.entry;
const DEAD = JOURNAL_SCHEMA.deadLetter;

/** Op codes back to ops; an unknown code marks the entry malformed. */
const OPS: Readonly<Record<string, WriteBehindOp>> = Object.freeze({
  [JOURNAL_SCHEMA.ops.set]: 'set',
  [JOURNAL_SCHEMA.ops.delete]: 'delete',
});

/** A Stream entry as read: its id and fields (null when it was deleted while pending). */
export interface RawEntry {
  id: string;
  fields: Map<string, Buffer> | null;
}

/**
 * Orders two journal ids (`ms-seq`): negative when `a` is older, 0 when equal,
 * positive when newer. For writers that keep the id as a version.
 */
export function compareJournalIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am === bm ? as - bs : am - bm;
}

/** One write about to be journaled. */
export interface AppendRequest {
  key: string;
  op: WriteBehindOp;
  /** The value of a set; ignored for a delete. */
  value: unknown;
  /** When the write happened, ms since the epoch. */
  at: number;
}

/**
 * The arguments of `write-behind-append-1.lua` for one write: the bound, then
 * the entry's fields in the order the script stores them. Encodes the value,
 * so a value the serializer refuses throws here, before anything is journaled.
 */
export function appendArguments(
  journal: { serializer: Serializer; maxLength: number },
  write: AppendRequest,
): (string | number | Buffer)[] {
  const payload = write.op === 'set' ? journal.serializer.encode(write.value) : '';
  return [journal.maxLength, write.key, JOURNAL_SCHEMA.ops[write.op], payload, write.at];
}

/** Decodes a journal entry; throws when a field is missing or the value cannot be decoded. */
export function decodeEntry<T>(raw: RawEntry, serializer: Serializer): WriteBehindEntry<T> {
  const f = raw.fields as Map<string, Buffer>;
  const key = f.get(FIELD.key)?.toString();
  const op = OPS[f.get(FIELD.op)?.toString() ?? ''];
  const at = Number(f.get(FIELD.at)?.toString());
  if (!key || !op || !Number.isFinite(at)) throw new Error(`journal entry ${raw.id} is malformed`);
  const value = op === 'set' ? (serializer.decode(f.get(FIELD.value) ?? Buffer.alloc(0)) as T) : undefined;
  return { key, value, op, at, id: raw.id };
}

/**
 * What can be read of an entry {@link decodeEntry} refused, for the
 * `'dead-letter'` event: its key, op and time as far as they exist, no value.
 */
export function describeUnreadable<T>(raw: RawEntry): WriteBehindEntry<T> {
  const f = raw.fields;
  return {
    key: f?.get(FIELD.key)?.toString() ?? '',
    value: undefined,
    op: OPS[f?.get(FIELD.op)?.toString() ?? ''] ?? 'set',
    at: Number(f?.get(FIELD.at)?.toString()),
    id: raw.id,
  };
}

/** Why and by whom an entry was parked, as a dead letter records it. */
export interface DeadLetterRecord {
  reason: 'writer' | 'decode';
  /** The last error's message (already cut to length). */
  message: string;
  attempts: number;
  consumer: string;
  /** When it was parked, ms since the epoch. */
  failedAt: number;
}

/**
 * The XADD field/value list of one dead letter: the journal entry's fields
 * copied byte for byte (an unreadable one stays as it was, for inspection),
 * then the record of why it was parked.
 */
export function deadLetterFields(raw: RawEntry, record: DeadLetterRecord): (string | number | Buffer)[] {
  const f = raw.fields ?? new Map<string, Buffer>();
  return [
    DEAD.journalId,
    raw.id,
    FIELD.key,
    f.get(FIELD.key) ?? '',
    FIELD.op,
    f.get(FIELD.op) ?? '',
    FIELD.value,
    f.get(FIELD.value) ?? '',
    FIELD.at,
    f.get(FIELD.at) ?? '',
    DEAD.reason,
    record.reason,
    DEAD.error,
    record.message,
    DEAD.attempts,
    record.attempts,
    DEAD.consumer,
    record.consumer,
    DEAD.failedAt,
    record.failedAt,
  ];
}

/**
 * Decodes a dead letter. Never throws: a dead letter is often there because it
 * could not be read, so a value that does not decode comes back `undefined`.
 */
export function decodeDeadLetter<T>(raw: RawEntry, serializer: Serializer): WriteBehindDeadLetter<T> {
  const f = raw.fields ?? new Map<string, Buffer>();
  const text = (name: string) => f.get(name)?.toString() ?? '';
  const op = OPS[text(FIELD.op)] ?? 'set';
  let value: T | undefined;
  const encoded = f.get(FIELD.value);
  if (op === 'set' && encoded) {
    try {
      value = serializer.decode(encoded) as T;
    } catch {
      value = undefined;
    }
  }
  return {
    deadId: raw.id,
    id: text(DEAD.journalId),
    key: text(FIELD.key),
    op,
    value,
    at: Number(text(FIELD.at)),
    reason: text(DEAD.reason),
    error: text(DEAD.error),
    attempts: Number(text(DEAD.attempts)),
    consumer: text(DEAD.consumer),
    failedAt: Number(text(DEAD.failedAt)),
  };
}

/**
 * Stream entries from a reply's entry list (`[[id, [field, value, ...] | null], ...]`,
 * the same in RESP2 and RESP3). Values come back as Buffers whatever the reply
 * held (`Buffer.from` takes a string, and copies a Buffer).
 */
export function parseEntries(list: unknown): RawEntry[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => {
    const [id, flat] = item as [Buffer | string, Buffer[] | null];
    let fields: Map<string, Buffer> | null = null;
    if (Array.isArray(flat)) {
      fields = new Map();
      for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), Buffer.from(flat[i + 1] as Buffer));
    }
    return { id: String(id), fields };
  });
}

/**
 * The entries of the one stream an XREADGROUP read: RESP2 answers
 * `[[key, entries]]`, RESP3 a map (`[key, entries]` flat, or a Map), null when empty.
 */
export function entriesOfStream(reply: unknown): unknown {
  if (reply instanceof Map) return [...reply.values()][0];
  if (!Array.isArray(reply) || reply.length === 0) return [];
  return Array.isArray(reply[0]) ? (reply[0] as unknown[])[1] : reply[1];
}
