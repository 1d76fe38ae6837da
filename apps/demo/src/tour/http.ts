/**
 * A tiny HTTP client for the tour, the load run and the tests: node:http, so a
 * request can come from another loopback address (`localAddress`, to show IP
 * binding) and the time is measured around exactly one request.
 */
import { type Agent, request as httpRequest } from 'node:http';

/** An answer. `body` is parsed JSON when the server sent JSON, else the text. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: answers of many shapes; each caller checks what it reads
  body: any;
  /** Milliseconds from sending the request to the end of the answer. */
  ms: number;
}

/** Options of {@link call}. */
export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** The loopback address to send from (127.0.0.2 looks like another client). */
  localAddress?: string;
  agent?: Agent;
  /** Give up after this long. @default 30 s */
  timeoutMs?: number;
}

/** Sends one request. */
export function call(method: string, url: string, options: CallOptions = {}): Promise<Answer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = httpRequest(
      url,
      {
        method,
        ...(options.agent ? { agent: options.agent } : {}),
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        timeout: options.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
          let body: unknown = text;
          if ((headers['content-type'] ?? '').includes('json') && text) body = JSON.parse(text);
          resolve({ status: res.statusCode ?? 0, headers, body, ms: performance.now() - t0 });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`${method} ${url} took longer than ${options.timeoutMs ?? 30_000} ms`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A client with cookies, standing for one device of one user. */
export class Device {
  private cookie: string | undefined;

  constructor(
    readonly label: string,
    private readonly defaults: CallOptions = {},
  ) {}

  async call(method: string, url: string, options: CallOptions = {}): Promise<Answer> {
    const answer = await call(method, url, {
      ...this.defaults,
      ...options,
      headers: {
        'user-agent': `stratashop-tour ${this.label}`,
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...this.defaults.headers,
        ...options.headers,
      },
    });
    const set = answer.headers['set-cookie'];
    if (set) this.cookie = set.split(';')[0];
    return answer;
  }
}

/** Polls `check` every `everyMs` until it resolves a value (not undefined) or `timeoutMs` passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 200,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
