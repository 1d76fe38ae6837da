/**
 * A small node:http handler: the recent-windows JSON API plus `/healthz` and
 * `/readyz` from the aggregator's own checks, so a worker can serve them
 * without the metrics package (which can take the same checks instead).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError, type Duration, StratacacheError, toMs } from '@stratacache/core-client';
import { WindowAggregator } from './aggregator.js';
import { type HealthChecks, runHealthChecks } from './health.js';
import type { WindowReader } from './reader.js';

/** Options of {@link createWindowsHandler}. */
export interface WindowsHandlerOptions {
  /** Checks behind `/healthz` (live) and `/readyz` (live and ready). @default the aggregator's healthChecks(), none for a reader */
  checks?: HealthChecks;
  /** How long a health request waits for its checks. @default '2s' */
  healthTimeout?: Duration;
  /** A path prefix the routes live under (`'/streams'`). @default '' */
  basePath?: string;
  /** Largest `count` a request may ask for. @default 1000 */
  maxCount?: number;
}

/** A request handler for `http.createServer`; `next` (connect/express style) gets what it does not serve. */
export type WindowsHandler = (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * Routes (GET only):
 * - `/healthz`: live checks; 200 `{ status: 'ok', checks }` or 503 `{ status: 'fail', checks }`
 * - `/readyz`: live and ready checks, same shape
 * - `/windows`: the series names
 * - `/windows/<name>?count=N` or `?since=<ms>`: `{ name, windows: [...] }`, oldest first (count defaults to 10)
 * - `/windows/<name>/<start>`: one window, or 404
 */
export function createWindowsHandler(
  target: WindowAggregator | WindowReader,
  options: WindowsHandlerOptions = {},
): WindowsHandler {
  const reader = target instanceof WindowAggregator ? target.reader : target;
  const checks =
    options.checks ?? (target instanceof WindowAggregator ? target.healthChecks() : { live: {}, ready: {} });
  const timeoutMs = toMs(options.healthTimeout ?? '2s', 'healthTimeout');
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  if (basePath !== '' && !basePath.startsWith('/'))
    throw new ConfigError(`basePath must start with '/'; got ${JSON.stringify(options.basePath)}`, {
      context: { option: 'basePath' },
    });
  const maxCount = options.maxCount ?? 1000;

  const health = async (res: ServerResponse, ready: boolean) => {
    const outcome = await runHealthChecks(ready ? { ...checks.live, ...checks.ready } : checks.live, timeoutMs);
    send(res, outcome.ok ? 200 : 503, { status: outcome.ok ? 'ok' : 'fail', checks: outcome.checks });
  };

  const windows = async (res: ServerResponse, parts: string[], query: URLSearchParams) => {
    const [rawName, start] = parts;
    if (rawName === undefined) return send(res, 200, { names: reader.names });
    const name = decodeURIComponent(rawName);
    if (!reader.names.includes(name))
      return send(res, 404, { error: `no window series named ${JSON.stringify(name)}` });
    if (start !== undefined) {
      if (!/^\d+$/.test(start)) return send(res, 400, { error: 'start must be an integer (ms)' });
      const found = await reader.window(name, Number(start));
      return found ? send(res, 200, found) : send(res, 404, { error: 'no such window' });
    }
    const since = query.get('since');
    if (since !== null) {
      if (!/^\d+$/.test(since)) return send(res, 400, { error: 'since must be an integer (ms)' });
      return send(res, 200, { name, windows: await reader.recent(name, { since: Number(since) }) });
    }
    const count = Number(query.get('count') ?? 10);
    if (!Number.isInteger(count) || count <= 0 || count > maxCount)
      return send(res, 400, { error: `count must be an integer from 1 to ${maxCount}` });
    return send(res, 200, { name, windows: await reader.recent(name, { count }) });
  };

  return (req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path = url.pathname;
    if (basePath !== '') {
      if (path !== basePath && !path.startsWith(`${basePath}/`))
        return next ? next() : send(res, 404, { error: 'not found' });
      path = path.slice(basePath.length) || '/';
    }
    const parts = path.split('/').filter(Boolean);
    const known = path === '/healthz' || path === '/readyz' || parts[0] === 'windows';
    if (!known || parts.length > 3) return next ? next() : send(res, 404, { error: 'not found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, { error: 'method not allowed' });
    }
    const work =
      path === '/healthz'
        ? health(res, false)
        : path === '/readyz'
          ? health(res, true)
          : windows(res, parts.slice(1), url.searchParams);
    work.catch((error: unknown) => {
      // Redis down: the API says so (503) rather than hanging or crashing the server.
      const code = StratacacheError.isInstance(error) ? error.code : 'E_INTERNAL';
      const status = code === 'E_CONFIG' || code === 'E_KEY' ? 400 : 503;
      if (!res.headersSent) send(res, status, { error: error instanceof Error ? error.message : String(error), code });
      else res.end();
    });
  };
}
