/**
 * Test helpers: a console on the run's Redis under a prefix of its own
 * (cleaned afterwards), cheap password hashes, and a small cookie-keeping
 * client over `inject()` that logs in and carries the CSRF token like a browser.
 */
import { randomBytes } from 'node:crypto';
import { createRedis, type StrataRedis } from '@stratacache/core-client';
import {
  createWindowAggregator,
  RedisStreamSource,
  type WindowAggregator,
  type WindowSpec,
} from '@stratacache/streams';
import { cleanupNamespace, connectTestRedis, eventually, testRedisUrl } from '@stratacache/test-utils';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { hashPassword } from '../src/password.js';
import { type AdminServer, type BuildOptions, buildAdminServer } from '../src/server.js';

export const ADMIN_PASSWORD = 'admin-password-for-tests';
export const VIEWER_PASSWORD = 'viewer-password-for-tests';

let hashes: Promise<[string, string]> | undefined;
/** Hashes of the test passwords, at a low scrypt cost so tests stay fast. */
export function testHashes(): Promise<[string, string]> {
  hashes ??= Promise.all([hashPassword(ADMIN_PASSWORD, { N: 1024 }), hashPassword(VIEWER_PASSWORD, { N: 1024 })]);
  return hashes;
}

/** A key prefix no other test uses. */
export function uniquePrefix(): string {
  return `t-admin-${randomBytes(5).toString('hex')}`;
}

/** A console with both users, on the test Redis under `prefix`. */
export interface TestConsole {
  server: AdminServer;
  redis: StrataRedis;
  prefix: string;
  close(): Promise<void>;
}

/** Starts a console (not listening) with an admin and a viewer; `close()` removes every key of its prefix. */
export async function startConsole(options: BuildOptions = {}): Promise<TestConsole> {
  const prefix = options.env?.REDIS_NS ?? uniquePrefix();
  const redis = options.redis ?? createRedis({ url: testRedisUrl(), prefix, connectionName: 'admin-test' });
  const [adminHash, viewerHash] = await testHashes();
  const server = await buildAdminServer({
    passwordHash: adminHash,
    readonlyPasswordHash: viewerHash,
    sampleInterval: 200,
    loginLimit: 50,
    env: {},
    ...options,
    redis,
  });
  return {
    server,
    redis,
    prefix,
    close: async () => {
      await server.close();
      if (!options.redis) await redis.close();
      const raw = connectTestRedis();
      await cleanupNamespace(raw, prefix);
      raw.disconnect();
    },
  };
}

/** A browser-like client over `inject()`: keeps cookies, sends the console's own Origin on writes. */
export class Client {
  private readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page seen. */
  csrf: string | undefined;

  constructor(
    private readonly server: AdminServer,
    readonly origin = 'http://localhost:80',
  ) {}

  async request(options: InjectOptions & { form?: Record<string, string> }): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { ...(options.headers as Record<string, string>) };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const method = (options.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && headers.origin === undefined) headers.origin = this.origin;
    let payload = options.payload;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(options.form).toString();
    }
    const response = await this.server.app.inject({
      ...options,
      method: method as InjectOptions['method'],
      headers,
      payload,
    });
    for (const cookie of response.cookies) {
      if (cookie.value === '' || (cookie.expires && new Date(cookie.expires).getTime() < Date.now()))
        this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(response.body)?.[1];
    if (token) this.csrf = token;
    return response;
  }

  /** The Cookie header this client sends (for a real HTTP request next to `inject()`). */
  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.request({ method: 'GET', url, headers });
  }

  /** A form post carrying the current CSRF token (unless `form._csrf` says otherwise). */
  post(
    url: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    return this.request({ method: 'POST', url, headers, form: { _csrf: this.csrf ?? '', ...form } });
  }

  /** Logs in as `user`; resolves the login response. */
  async login(user: string, password: string): Promise<LightMyRequestResponse> {
    await this.get('/login');
    return this.post('/login', { user, password, next: '/' });
  }
}

/** A client logged in as the admin (or the viewer). */
export async function loggedIn(server: AdminServer, role: 'admin' | 'viewer' = 'admin'): Promise<Client> {
  const client = new Client(server);
  const response = await client.login(role, role === 'admin' ? ADMIN_PASSWORD : VIEWER_PASSWORD);
  if (response.statusCode !== 303)
    throw new Error(`login as ${role} failed: ${response.statusCode} ${response.body.slice(0, 300)}`);
  await client.get('/'); // a page, for a CSRF token bound to the new session
  return client;
}

/** The orders {@link aggregateOrders} writes: minute `m` (0-4) holds `5 * (m + 1)` orders with amounts 1..n. */
export interface OrderWindows {
  aggregator: WindowAggregator;
  /** Start of the first minute, ms. */
  first: number;
  /** The stream the orders went to. */
  stream: string;
  /** Adds one order at `time` (the aggregator applies it and publishes an update). */
  add(time: number, amount: number, country: string): Promise<void>;
}

/**
 * Writes orders to a Redis Stream under `redis`'s prefix and runs a real
 * `@stratacache/streams` aggregator over them into `series` (each with
 * `fields: ['amount']`, `dimensions: ['country']`, `distinct: ['user']`);
 * resolves once every order was applied. Five minutes starting eight minutes
 * ago: in minute m order j (from 0) has amount j + 1, country `de` for even j
 * and `fr` for odd j, user `u{j % 3}`.
 */
export async function aggregateOrders(
  redis: StrataRedis,
  series: Pick<WindowSpec, 'name' | 'size' | 'hop'>[],
  namespace = 'streams',
): Promise<OrderWindows> {
  const stream = `${redis.options.prefix}:stream:orders-${namespace}`;
  const first = Math.floor(Date.now() / 60_000) * 60_000 - 8 * 60_000;
  let total = 0;
  const pipeline = redis.client.pipeline();
  for (let m = 0; m < 5; m++) {
    for (let j = 0; j < 5 * (m + 1); j++) {
      const fields = {
        time: first + m * 60_000 + j * 1000,
        amount: j + 1,
        country: j % 2 ? 'fr' : 'de',
        user: `u${j % 3}`,
      };
      pipeline.xadd(stream, '*', ...Object.entries(fields).flat().map(String));
      total++;
    }
  }
  await pipeline.exec();
  const aggregator = createWindowAggregator({
    redis,
    namespace,
    source: new RedisStreamSource({ redis, stream, group: `admin-${namespace}`, consumer: 'c1', block: '200ms' }),
    windows: series.map((s) => ({
      ...s,
      grace: '10s',
      retention: '1h',
      fields: ['amount'],
      dimensions: ['country'],
      distinct: ['user'],
    })),
  });
  await aggregator.start();
  await eventually(async () => aggregator.stats().totals.records >= total, 20_000);
  return {
    aggregator,
    first,
    stream,
    add: async (time, amount, country) => {
      await redis.client.xadd(
        stream,
        '*',
        'time',
        String(time),
        'amount',
        String(amount),
        'country',
        country,
        'user',
        'u9',
      );
    },
  };
}
