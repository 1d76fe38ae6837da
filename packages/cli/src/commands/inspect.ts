/** `stratacache inspect <key>`: what a key holds, decoded (Cache entry header, serializer envelope, value). */
import type { StrataRedis } from '@stratacache/core-client';
import { type DecodedValue, describeValue } from '../entry.js';
import { plain, when } from '../output.js';

/** What `inspect` reports. */
export interface InspectReport {
  key: string;
  exists: boolean;
  type: string;
  /** PTTL: -1 none, -2 gone. */
  ttlMs: number;
  bytes?: number;
  decoded?: DecodedValue;
  /** For a hash (a session): its fields, each decoded like a string value. */
  fields?: Record<string, DecodedValue>;
  /** For a list, set, sorted set or stream: how many members. */
  members?: number;
}

/** The Redis key of entry `key` in cache namespace `namespace` (as the Cache builds it). */
export function cacheEntryKey(redis: StrataRedis, namespace: string, key: string): string {
  return redis.keys(namespace).key('e', key);
}

/** Reads and decodes `key`. */
export async function inspect(redis: StrataRedis, key: string): Promise<InspectReport> {
  const [type, ttlMs] = await redis.run('inspect', async (c) => Promise.all([c.type(key), c.pttl(key)]));
  const report: InspectReport = { key, exists: type !== 'none', type, ttlMs };
  if (type === 'string') {
    const buf = await redis.run('inspect', (c) => c.getBuffer(key));
    if (buf) {
      report.bytes = buf.length;
      report.decoded = describeValue(buf);
    }
  } else if (type === 'hash') {
    const all = await redis.run('inspect', (c) => c.hgetallBuffer(key));
    report.fields = {};
    for (const [field, value] of Object.entries(all)) report.fields[field] = describeValue(value);
  } else if (type !== 'none') {
    const count = { list: 'llen', set: 'scard', zset: 'zcard', stream: 'xlen' }[type] as
      | 'llen'
      | 'scard'
      | 'zcard'
      | 'xlen'
      | undefined;
    if (count) report.members = Number(await redis.run('inspect', (c) => c[count](key)));
  }
  return report;
}

/** The report as `name  value` pairs for the table output. */
export function inspectFields(report: InspectReport): Record<string, unknown> {
  const out: Record<string, unknown> = {
    key: report.key,
    type: report.type,
    ttl: report.ttlMs === -1 ? 'none' : report.ttlMs === -2 ? 'gone' : `${report.ttlMs} ms`,
    bytes: report.bytes,
    members: report.members,
  };
  const d = report.decoded;
  if (d?.entry) {
    out['cache entry'] =
      `${d.entry.kind}${d.entry.undefinedValue ? ' (undefined)' : ''}${d.entry.expiredByCall ? ', expired by expire()' : ''}`;
    out['as of'] = when(d.entry.asOf);
    out.expires = when(d.entry.expiresAt);
    out.version = d.entry.version;
    out.tags = d.entry.tags.length > 0 ? d.entry.tags.join(', ') : '-';
  }
  if (d?.envelope) out.envelope = `${d.envelope.format}, compression ${d.envelope.compression}, v${d.envelope.version}`;
  if (d && 'value' in d) out.value = plain(d.value);
  if (d?.error) out.error = d.error;
  if (d?.raw !== undefined && !('value' in d)) out.raw = d.raw;
  if (report.fields) {
    for (const [field, value] of Object.entries(report.fields)) {
      out[`field ${field}`] =
        'value' in value ? plain(value.value) : (value.raw ?? (value.error ? `(${value.error})` : '-'));
    }
  }
  return out;
}
