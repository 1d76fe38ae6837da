/** URLs as the launcher prints them: the password replaced by `***`. */

/** `url` without its password; a string that is not a URL is not echoed at all. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
