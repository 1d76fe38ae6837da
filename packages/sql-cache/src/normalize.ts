/**
 * The SQL text that goes into a cache key: whitespace outside literals,
 * identifiers and comments collapsed, surrounding whitespace and trailing
 * semicolons removed, so the same query written on one line or on five
 * shares an entry.
 *
 * Two different statements must never normalize to the same text (they
 * would share a result), so the rules err on the side of changing nothing:
 * - a text holding a backslash is only trimmed: whether `\'` ends a literal
 *   depends on the dialect and server settings, and a tokenizer that guessed
 *   wrong would collapse spaces inside a literal;
 * - a run of whitespace holding a newline becomes a newline (it may end a
 *   `--` comment), any other run one space;
 * - quotes `'...'`, `"..."`, backticks and, for PostgreSQL, `$tag$...$tag$`
 *   are copied as they are, doubled quotes included.
 */

/** Normalizes `sql` for a key (see the module comment). */
export function normalizeSql(sql: string, dialect: string): string {
  const text = sql.trim().replace(/[\s;]+$/, '');
  if (text.includes('\\')) return text;
  const postgres = dialect === 'postgres';
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      let j = i;
      let newline = false;
      while (j < n && /\s/.test(text[j] as string)) {
        if (text[j] === '\n') newline = true;
        j++;
      }
      out += newline ? '\n' : ' ';
      i = j;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      const end = closingQuote(text, i, c);
      out += text.slice(i, end);
      i = end;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      out += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '#' && !postgres) {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      out += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      // PostgreSQL nests block comments; copying up to the outermost end is exact for both dialects.
      const end = blockCommentEnd(text, i, postgres);
      out += text.slice(i, end);
      i = end;
      continue;
    }
    if (postgres && c === '$') {
      const tag = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(text.slice(i));
      if (tag) {
        const close = text.indexOf(tag[0], i + tag[0].length);
        const end = close === -1 ? n : close + tag[0].length;
        out += text.slice(i, end);
        i = end;
        continue;
      }
    }
    if (/[A-Za-z0-9_$\u0080-\uffff]/.test(c)) {
      // A whole word (identifier, keyword, number, $1): a `$` inside it never opens a dollar quote.
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(text[j] as string)) j++;
      out += text.slice(i, j);
      i = j;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** Index just past the quote closing the one at `start` (a doubled quote is part of the text). */
function closingQuote(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return text.length;
}

function blockCommentEnd(text: string, start: number, nested: boolean): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text[i] === '/' && text[i + 1] === '*') {
      depth = nested ? depth + 1 : 1;
      i += 2;
      continue;
    }
    if (text[i] === '*' && text[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
      continue;
    }
    i++;
  }
  return text.length;
}
