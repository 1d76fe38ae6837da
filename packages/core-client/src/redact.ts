/** Keeps passwords out of messages, logs and `toString()`. */

/** `url` with any password replaced by `***`; unparseable input is replaced whole. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

/** `message` with every occurrence of `secret` replaced by `***`. */
export function redactSecret(message: string, secret: string | undefined): string {
  if (!secret) return message;
  return message.split(secret).join('***');
}
