/** Keeps passwords out of messages, logs and `toString()`. */

/** `url` with any password replaced by `***`; unparseable input is replaced whole. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // Unparseable: the password runs from the first ':' after '//' to the last '@' before the path.
    const start = url.indexOf('//');
    if (start < 0) return url;
    const end = url.indexOf('/', start + 2);
    const authority = url.slice(start + 2, end < 0 ? undefined : end);
    const at = authority.lastIndexOf('@');
    const colon = authority.indexOf(':');
    if (at < 0 || colon < 0 || colon > at) return url;
    return `${url.slice(0, start + 2)}${authority.slice(0, colon)}:***${authority.slice(at)}${end < 0 ? '' : url.slice(end)}`;
  }
}

/** `message` with every occurrence of `secret` replaced by `***`. */
export function redactSecret(message: string, secret: string | undefined): string {
  if (!secret) return message;
  return message.split(secret).join('***');
}
