/**
 * HTML that escapes by default. Every page is built with the `html` tagged
 * template: an interpolated value is escaped unless it is itself `SafeHtml`
 * (the result of another `html` template), so key names, values, tags, user
 * ids and error messages (attacker data, all of them) can only ever appear as
 * text. There is deliberately no way to mark an arbitrary string as safe
 * except `trusted()`, used for constants written in this code base.
 */

/** Markup that is already escaped (built by {@link html}). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] as string);
}

/** What may be interpolated: text (escaped), numbers, markup, lists of those; null, undefined and false render nothing. */
export type HtmlValue = SafeHtml | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false || value === true) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * The template tag: static parts are kept, interpolations escaped.
 *
 * @example
 * ```ts
 * html`<td>${keyName}</td>`; // '<td>&lt;img src=x onerror=alert(1)&gt;</td>' for that key
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i] as HtmlValue) + (strings[i + 1] as string);
  return new SafeHtml(out);
}

/** Marks a constant of this code base as markup. Never pass data from Redis or a request here. */
export function trusted(constant: string): SafeHtml {
  return new SafeHtml(constant);
}

// C0 and C1 controls, DEL, and the bidirectional formatting characters that can make text read
// differently from what it is (a key name that displays as another key's name).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * Bytes as readable text, binary-safe: valid UTF-8 shows as text with
 * controls and bidi overrides written as `\u{...}`; anything else shows
 * printable ASCII as is and every other byte as `\xNN`. The result is plain
 * text: interpolate it into `html` (which escapes it).
 */
export function showBytes(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  if (Buffer.byteLength(text) === bytes.length && !text.includes('\ufffd')) {
    return text.replace(INVISIBLE, (c) => `\\u{${(c.codePointAt(0) as number).toString(16)}}`);
  }
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** True when `bytes` is valid UTF-8 without control characters other than tab and newlines. */
export function isPlainText(bytes: Buffer): boolean {
  const text = bytes.toString('utf8');
  if (Buffer.byteLength(text) !== bytes.length || text.includes('\ufffd')) return false;
  INVISIBLE.lastIndex = 0;
  return !INVISIBLE.test(text);
}

/** A classic hex dump (offset, 16 bytes in hex, ASCII), for values that are not text. */
export function hexDump(bytes: Buffer, limit = 4096): string {
  const lines: string[] = [];
  const end = Math.min(bytes.length, limit);
  for (let at = 0; at < end; at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, end));
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > end) lines.push(`... ${bytes.length - end} more bytes`);
  return lines.join('\n');
}
