/**
 * @stratacache/sessions against what an Express user runs today, in one run
 * on one Redis:
 *
 * 1. Store operations against connect-redis-style raw commands with ioredis
 *    on the same session JSON: create (SET EX), get + touch (GET, then EXPIRE
 *    at the end of the request), destroy (DEL). Ours: `create`, `get` (one
 *    script reads and slides the idle timeout), the express store's
 *    `peek` + `touch` (what express-session calls), `destroy`.
 * 2. A full request over HTTP: express + express-session with connect-redis
 *    (10, on node-redis, as its README sets it up) against the same app with
 *    our express store, encryption off and on. Each request reads its session
 *    and express-session touches it (resave: false, saveUninitialized: false).
 *
 * Both parts alternate their cells in short slices; every ratio is the median
 * of per-round ratios. The HTTP servers run in a child process (all three apps,
 * one port each), the load comes from this process over keep-alive sockets.
 *
 * Run (after `pnpm build`; starts its own redis-server unless REDIS_URL is set):
 *   pnpm --filter @stratacache/bench sessions
 * Env: ROUNDS (default 5), CELL_MS (default 300), CONCURRENCY (HTTP requests in flight, default 16), ONLY (store|http).
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createRedis } from '@stratacache/core-client';
import { createSessionManager } from '@stratacache/sessions';
import { createExpressStore } from '@stratacache/sessions/express';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startServer } from '../lib/redis-server.mjs';

const IDLE_S = 1800;
const SECRET = 'a session secret of at least thirty-two bytes, for the bench';
const sampleData = (i) => ({
  userId: `user-${i}`,
  role: 'editor',
  cart: [
    { sku: 'SKU-7919', qty: 1 },
    { sku: 'SKU-15838', qty: 2 },
  ],
  csrf: randomBytes(16).toString('base64url'),
});

// ------------------------------------------------------------------ HTTP servers (child process)

if (process.argv[2] === 'servers') {
  const [, , , url, run] = process.argv;
  const node = createClient({ url });
  await node.connect();
  const strata = createRedis({ url, env: {}, prefix: run });
  const plain = createSessionManager({ redis: strata, secret: SECRET, namespace: 'plain', idleTimeout: IDLE_S * 1000 });
  const sealed = createSessionManager({
    redis: strata,
    secret: SECRET,
    namespace: 'sealed',
    idleTimeout: IDLE_S * 1000,
    encryption: { keys: [{ id: 'k1', key: randomBytes(32) }] },
  });
  const app = (store, extra = {}) => {
    const a = express();
    a.use(
      session({
        store,
        secret: 'cookie secret',
        resave: false,
        saveUninitialized: false,
        cookie: { maxAge: IDLE_S * 1000 },
        ...extra,
      }),
    );
    a.post('/login', (req, res, next) => {
      req.session.userId = `user-${Math.floor(Math.random() * 1e6)}`;
      Object.assign(req.session, sampleData(0), { userId: req.session.userId });
      req.session.save((e) => (e ? next(e) : res.json({ ok: true })));
    });
    a.get('/me', (req, res) => res.json({ userId: req.session.userId ?? null }));
    return a;
  };
  const stores = {
    'connect-redis': app(new RedisStore({ client: node, prefix: `${run}:sess:`, ttl: IDLE_S })),
    stratacache: (() => {
      const store = createExpressStore(session, plain);
      return app(store, { genid: store.genid });
    })(),
    'stratacache, encryption on': (() => {
      const store = createExpressStore(session, sealed);
      return app(store, { genid: store.genid });
    })(),
  };
  const ports = {};
  for (const [name, a] of Object.entries(stores)) {
    const server = http.createServer(a);
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    ports[name] = server.address().port;
  }
  process.on('message', async (m) => {
    if (m.type === 'stop') {
      await node.quit();
      await strata.close();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', ports });
} else {
  await main();
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Rounds of alternating slices: each cell is `{ fn, prepare? }`; `fn` does one
 * operation, `prepare` (untimed, before each slice) refills what the cell consumes.
 */
async function measure(cells, rounds, cellMs) {
  const names = Object.keys(cells);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    const order = [...names.slice(r % names.length), ...names.slice(0, r % names.length)];
    const acc = new Map(order.map((n) => [n, { ops: 0, time: 0, cpu: 0 }]));
    for (let s = 0; s < Math.max(1, Math.round(cellMs / 25)); s++) {
      for (const name of order) {
        const cell = cells[name];
        await cell.prepare?.();
        const a = acc.get(name);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        let t = t0;
        do {
          await cell.fn();
          a.ops += cell.per ?? 1;
          t = performance.now();
        } while (t - t0 < 25);
        const c = process.cpuUsage(c0);
        a.time += t - t0;
        a.cpu += c.user + c.system;
      }
    }
    for (const [name, a] of acc) samples[name].push({ hz: (a.ops * 1000) / a.time, cpu: a.cpu / a.ops });
  }
  return samples;
}

async function main() {
  const ROUNDS = Number(process.env.ROUNDS ?? 5);
  const CELL_MS = Number(process.env.CELL_MS ?? 300);
  const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
  const only = process.env.ONLY;
  const server = await startServer();
  process.once('exit', () => server.stop());
  const url = server.url;
  const RUN = `sb${randomBytes(4).toString('hex')}`;
  const raw = new Redis(url);
  const strata = createRedis({ url, env: {}, prefix: RUN });
  const manager = createSessionManager({ redis: strata, secret: SECRET, idleTimeout: IDLE_S * 1000 });
  // What express-session calls, through its callbacks: a sliding read, then a touch (answered without Redis
  // when the read already slid the session by the same timeout).
  const express = createExpressStore(session, manager);
  const viaCallback = (fn) => new Promise((resolve, reject) => fn((e, r) => (e ? reject(e) : resolve(r))));
  const cookie = () => ({
    originalMaxAge: IDLE_S * 1000,
    expires: new Date(Date.now() + IDLE_S * 1000),
    httpOnly: true,
    path: '/',
  });
  const header = `node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model}, load ${os.loadavg()[0].toFixed(1)}, median of ${ROUNDS} rounds of alternating 25 ms slices, ${new Date().toISOString()}`;
  console.log(header);
  const targets = [];

  // ---- 1: store operations
  if (!only || only === 'store') {
    let n = 0;
    const rawKey = (id) => `${RUN}:sess:${id}`;
    const rawIds = [];
    const ourIds = [];
    const rawDoomed = [];
    const ourDoomed = [];
    const rawCreate = async () => {
      const id = randomBytes(24).toString('base64url');
      await raw.set(rawKey(id), JSON.stringify({ cookie: cookie(), ...sampleData(n++) }), 'EX', IDLE_S);
      return id;
    };
    const ourCreate = async () =>
      (await manager.create(`user-${n % 1000}`, { cookie: cookie(), ...sampleData(n++) })).id;
    for (let i = 0; i < 200; i++) {
      rawIds.push(await rawCreate());
      ourIds.push(await ourCreate());
    }
    let k = 0;
    const refill = (pool, create) => async () => {
      while (pool.length < 2000) pool.push(...(await Promise.all(Array.from({ length: 200 }, create))));
    };
    const cells = {
      'create: raw SET EX (connect-redis)': { fn: rawCreate },
      'create: stratacache create': { fn: ourCreate },
      'get+touch: raw GET, then EXPIRE (connect-redis)': {
        fn: async () => {
          const key = rawKey(rawIds[k++ % rawIds.length]);
          JSON.parse(await raw.get(key));
          await raw.expire(key, IDLE_S);
        },
      },
      'get+touch: stratacache get (one script)': {
        fn: async () => {
          const s = await manager.get(ourIds[k++ % ourIds.length]);
          if (!s.valid) throw new Error(`session lost: ${s.reason}`);
        },
      },
      'get+touch: stratacache express store get, then touch': {
        fn: async () => {
          const sid = ourIds[k++ % ourIds.length];
          const s = await viaCallback((cb) => express.get(sid, cb));
          // As express-session does at the start of a request (req.session.touch()): the cookie runs from now.
          s.cookie = { ...s.cookie, expires: new Date(Date.now() + IDLE_S * 1000) };
          await viaCallback((cb) => express.touch(sid, s, cb));
        },
      },
      'destroy: raw DEL (connect-redis)': {
        prepare: refill(rawDoomed, rawCreate),
        fn: () => raw.del(rawKey(rawDoomed.pop())),
      },
      'destroy: stratacache destroy': {
        prepare: refill(ourDoomed, ourCreate),
        fn: () => manager.destroy(ourDoomed.pop()),
      },
    };
    const samples = await measure(cells, ROUNDS, CELL_MS);
    const ratio = (a, b) => median(samples[a].map((x, i) => x.hz / samples[b][i].hz));
    const pairs = [
      ['create', 'create: stratacache create', 'create: raw SET EX (connect-redis)'],
      [
        'get+touch (one script)',
        'get+touch: stratacache get (one script)',
        'get+touch: raw GET, then EXPIRE (connect-redis)',
      ],
      [
        'get+touch (express store: a sliding read, then its touch)',
        'get+touch: stratacache express store get, then touch',
        'get+touch: raw GET, then EXPIRE (connect-redis)',
      ],
      ['destroy', 'destroy: stratacache destroy', 'destroy: raw DEL (connect-redis)'],
    ];
    console.log('store operations, one at a time (ops/s; client CPU µs per operation):');
    console.table(
      Object.entries(samples).map(([name, xs]) => ({
        operation: name,
        'ops/s': Math.round(median(xs.map((x) => x.hz))),
        'CPU µs/op': median(xs.map((x) => x.cpu)).toFixed(1),
      })),
    );
    for (const [label, a, b] of pairs)
      targets.push({ target: `store ${label} vs connect-redis-style raw`, value: ratio(a, b), min: null });
  }

  // ---- 2: a full request over HTTP
  if (!only || only === 'http') {
    const child = fork(fileURLToPath(import.meta.url), ['servers', url, RUN], { stdio: 'inherit' });
    const { ports } = await new Promise((resolve) => child.once('message', resolve));
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });
    const request = (port, method, path, cookieHeader) =>
      new Promise((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, method, path, agent, headers: cookieHeader ? { cookie: cookieHeader } : {} },
          (res) => {
            const setCookie = res.headers['set-cookie']?.[0]?.split(';')[0];
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d) => {
              body += d;
            });
            res.on('end', () =>
              res.statusCode === 200 ? resolve({ body, setCookie }) : reject(new Error(`${res.statusCode} ${body}`)),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    const cookies = {};
    for (const [name, port] of Object.entries(ports)) {
      cookies[name] = [];
      for (let i = 0; i < 64; i++) cookies[name].push((await request(port, 'POST', '/login')).setCookie);
      const me = JSON.parse((await request(port, 'GET', '/me', cookies[name][0])).body);
      if (!me.userId) throw new Error(`${name}: the session did not stick`);
    }
    let c = 0;
    const cells = Object.fromEntries(
      Object.entries(ports).map(([name, port]) => [
        name,
        {
          per: CONCURRENCY,
          fn: () =>
            Promise.all(
              Array.from({ length: CONCURRENCY }, () =>
                request(port, 'GET', '/me', cookies[name][c++ % cookies[name].length]),
              ),
            ),
        },
      ]),
    );
    const samples = await measure(cells, ROUNDS, CELL_MS);
    const ratio = (a, b) => median(samples[a].map((x, i) => x.hz / samples[b][i].hz));
    console.log(
      `HTTP: GET /me with a session cookie, ${CONCURRENCY} requests in flight (requests/s; this process is the load generator):`,
    );
    console.table(
      Object.entries(samples).map(([name, xs]) => ({
        store: name,
        'requests/s': Math.round(median(xs.map((x) => x.hz))),
        'x connect-redis': ratio(name, 'connect-redis').toFixed(2),
      })),
    );
    targets.push({
      target: 'HTTP request rate, encryption off, vs connect-redis',
      value: ratio('stratacache', 'connect-redis'),
      min: 0.9,
    });
    targets.push({
      target: 'HTTP request rate, encryption on, vs connect-redis',
      value: ratio('stratacache, encryption on', 'connect-redis'),
      min: null,
    });
    targets.push({
      target: 'HTTP: the cost of encryption (on vs off)',
      value: ratio('stratacache, encryption on', 'stratacache'),
      min: null,
    });
    child.send({ type: 'stop' });
    await new Promise((r) => child.once('exit', r));
    agent.destroy();
  }

  console.log('targets:');
  console.table(
    targets.map((t) => ({
      target: t.target,
      value: Number(t.value.toFixed(2)),
      result: t.min === null ? '(reported)' : t.value >= t.min ? `pass (>= ${t.min})` : `FAIL (< ${t.min})`,
    })),
  );
  let removed = 0;
  for await (const keys of raw.scanStream({ match: `${RUN}*`, count: 1000 }))
    if (keys.length) removed += await raw.unlink(...keys);
  console.log(`removed ${removed} keys with prefix ${RUN}`);
  raw.disconnect();
  await strata.close();
  server.stop();
  process.exit(0);
}
