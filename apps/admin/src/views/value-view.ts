/**
 * The value viewer: reads a key by its type, a bounded amount of it (the
 * first 100 members of a collection, the first 4 MiB of a string), and
 * renders it binary-safe. Strings go through the decoder (Cache entry header,
 * envelope, text, hex); members of collections are shown as text, and an
 * enveloped member (a session's value, a journal entry) is decoded too.
 */
import type { StrataRedis } from '@stratacache/core-client';
import { ENVELOPE_MAGIC } from '@stratacache/serializers';
import { ENTRY_MAGIC } from '../entry-header.js';
import { html, type SafeHtml, showBytes } from '../html.js';
import { bytes, duration, note, when } from '../layout.js';
import { type DecodedValue, decodeValue, MAX_DECODE_BYTES } from '../value-decode.js';

/** Members shown per collection. */
const MEMBERS = 100;

function short(buf: Buffer, max = 300): string {
  if (buf.length > 0 && (buf[0] === ENVELOPE_MAGIC || buf[0] === ENTRY_MAGIC)) {
    const decoded = decodeValue(buf);
    const text = decoded.decoded ?? decoded.text ?? decoded.decodeError ?? '';
    return text.length > max ? `${text.slice(0, max)}…` : text;
  }
  const text = showBytes(buf.length > max * 4 ? buf.subarray(0, max * 4) : buf);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Renders a decoded string value: the Cache entry header, the envelope, the value. */
export function renderDecoded(d: DecodedValue, serverNow: number): SafeHtml {
  const entry = d.entry;
  return html`
${
  entry
    ? html`<h2>Cache entry</h2>
<table class="kv" data-testid="entry-header">
<tr><th>kind</th><td>${entry.kindName}</td></tr>
<tr><th>as of</th><td>${when(entry.asOf)} <span class="muted">(${duration(serverNow - entry.asOf)} ago, Redis clock)</span></td></tr>
<tr><th>logical expiry</th><td>${when(entry.expiresAt)}${
        Number.isFinite(entry.expiresAt)
          ? html` <span class="muted">(${entry.expiresAt > serverNow ? `fresh for ${duration(entry.expiresAt - serverNow)}` : `stale for ${duration(serverNow - entry.expiresAt)}; kept for grace until the Redis TTL ends`})</span>`
          : ''
      }</td></tr>
<tr><th>flags</th><td>${[entry.isUndefined ? 'value is undefined' : '', entry.expiredByCall ? 'expired by expire()' : ''].filter(Boolean).join(', ') || 'none'}</td></tr>
<tr><th>version</th><td>${entry.version === 0 ? '0 (unversioned)' : entry.version}</td></tr>
<tr><th>tags</th><td>${entry.tags.length === 0 ? 'none' : html`<ul class="tags">${entry.tags.map((t) => html`<li><code>${showBytes(Buffer.from(t))}</code></li>`)}</ul>`}</td></tr>
</table>`
    : ''
}
${
  d.envelope
    ? html`<h2>Envelope</h2><table class="kv"><tr><th>format</th><td>${d.envelope.format}</td></tr><tr><th>compression</th><td>${d.envelope.compression}</td></tr><tr><th>envelope version</th><td>${d.envelope.version}</td></tr></table>`
    : ''
}
${d.truncated ? note(`Only the first ${bytes(MAX_DECODE_BYTES)} were read.`) : ''}
${d.decodeError ? html`<div class="error" role="alert">Not decoded: ${d.decodeError}</div>` : ''}
${d.decoded !== undefined ? html`<h2>Value</h2><pre class="value" data-testid="decoded">${d.decoded}</pre>` : ''}
${d.text !== undefined && d.decoded === undefined ? html`<h2>Text</h2><pre class="value" data-testid="text">${d.text}</pre>` : ''}
${d.hex !== undefined ? html`<h2>Bytes</h2><pre class="value hex" data-testid="hex">${d.hex}</pre>` : ''}`;
}

/** Reads and renders the value of `key` of `type`. */
export async function renderValue(redis: StrataRedis, key: Buffer, type: string): Promise<SafeHtml> {
  const run = redis.run.bind(redis);
  switch (type) {
    case 'string': {
      const length = await run('strlen', (c) => c.strlen(key));
      const truncated = length > MAX_DECODE_BYTES;
      const value = truncated
        ? await run('getrange', (c) => c.getrangeBuffer(key, 0, MAX_DECODE_BYTES - 1))
        : await run('get', (c) => c.getBuffer(key));
      if (value === null) return html`<p>The key is gone.</p>`;
      await redis.clock.ready().catch(() => {});
      return renderDecoded(decodeValue(value, truncated), redis.clock.now());
    }
    case 'hash': {
      const total = await run('hlen', (c) => c.hlen(key));
      const [, flat] = (await run('hscan', (c) => c.hscanBuffer(key, '0', 'COUNT', MEMBERS))) as [Buffer, Buffer[]];
      const rows: SafeHtml[] = [];
      for (let i = 0; i + 1 < flat.length && rows.length < MEMBERS; i += 2) {
        rows.push(
          html`<tr><td><code>${showBytes(flat[i] as Buffer)}</code></td><td><code>${short(flat[i + 1] as Buffer)}</code></td></tr>`,
        );
      }
      return html`<h2>Hash: ${total} fields</h2>${total > rows.length ? note(`The first ${rows.length} shown.`) : ''}
<table class="grid"><thead><tr><th>field</th><th>value</th></tr></thead><tbody>${rows}</tbody></table>`;
    }
    case 'list': {
      const total = await run('llen', (c) => c.llen(key));
      const items = await run('lrange', (c) => c.lrangeBuffer(key, 0, MEMBERS - 1));
      return html`<h2>List: ${total} items</h2>${total > items.length ? note(`The first ${items.length} shown.`) : ''}
<ol class="members">${items.map((item) => html`<li><code>${short(item)}</code></li>`)}</ol>`;
    }
    case 'set': {
      const total = await run('scard', (c) => c.scard(key));
      const [, members] = (await run('sscan', (c) => c.sscanBuffer(key, '0', 'COUNT', MEMBERS))) as [Buffer, Buffer[]];
      return html`<h2>Set: ${total} members</h2>${total > members.length ? note(`${members.length} shown.`) : ''}
<ul class="members">${members.slice(0, MEMBERS).map((m) => html`<li><code>${short(m)}</code></li>`)}</ul>`;
    }
    case 'zset': {
      const total = await run('zcard', (c) => c.zcard(key));
      const flat = await run('zrange', (c) => c.zrangeBuffer(key, '0', String(MEMBERS - 1), 'WITHSCORES'));
      const rows: SafeHtml[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const score = Number((flat[i + 1] as Buffer).toString());
        rows.push(
          html`<tr><td><code>${short(flat[i] as Buffer)}</code></td><td>${(flat[i + 1] as Buffer).toString()}${score > 1e12 && score < 1e14 ? html` <span class="muted">(${when(score)})</span>` : ''}</td></tr>`,
        );
      }
      return html`<h2>Sorted set: ${total} members</h2>${total > rows.length ? note(`The first ${rows.length} by score shown.`) : ''}
<table class="grid"><thead><tr><th>member</th><th>score</th></tr></thead><tbody>${rows}</tbody></table>`;
    }
    case 'stream': {
      const total = await run('xlen', (c) => c.xlen(key));
      const entries = (await run('xrange', (c) => c.xrangeBuffer(key, '-', '+', 'COUNT', 20))) as [Buffer, Buffer[]][];
      return html`<h2>Stream: ${total} entries</h2>${total > entries.length ? note(`The first ${entries.length} shown.`) : ''}
<table class="grid"><thead><tr><th>id</th><th>fields</th></tr></thead><tbody>${entries.map(([id, fields]) => {
        const pairs: SafeHtml[] = [];
        for (let i = 0; i + 1 < fields.length; i += 2)
          pairs.push(
            html`<div><code>${showBytes(fields[i] as Buffer)}</code> = <code>${short(fields[i + 1] as Buffer)}</code></div>`,
          );
        return html`<tr><td><code>${id.toString()}</code></td><td>${pairs}</td></tr>`;
      })}</tbody></table>`;
    }
    default:
      return note(`Values of type ${type} are not shown here.`);
  }
}
