/** A tiny cookie-keeping HTTP client for the framework tests (127.0.0.1 only). */
import { createHmac } from 'node:crypto';

/** A browser of one: keeps the cookies a server sets. */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  async request(method: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(`${this.base}${path}`, { method, headers: cookie ? { cookie } : {} });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  /** The session id inside a signed cookie (`s:<sid>.<signature>`). */
  sid(name: string): string | undefined {
    const raw = this.cookies.get(name);
    if (!raw) return undefined;
    const value = decodeURIComponent(raw);
    return value.replace(/^s:/, '').split('.')[0];
  }
}

/** A cookie value signed the way express-session (cookie-signature) signs it. */
export function signCookie(sid: string, secret: string): string {
  const mac = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '');
  return encodeURIComponent(`s:${sid}.${mac}`);
}
