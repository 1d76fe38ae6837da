/**
 * `/metrics`, `/healthz` and `/readyz` for node:http, Express and Fastify,
 * as plain handler functions: no web framework is a dependency. Express's
 * `(req, res)` are node:http's, so the node handlers serve Express too.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Health, HealthReport } from './health.js';

/** A response to send: status, content type and body. */
export interface EndpointResponse {
  status: number;
  contentType: string;
  body: string;
}

/** What the handler factories take: the registry to serve and/or the health probes. */
export interface EndpointOptions {
  registry?: Registry;
  health?: Health;
}

/** The Prometheus text of `registry` (500 with the reason if a collector throws). */
export async function metricsResponse(registry: Registry): Promise<EndpointResponse> {
  try {
    return { status: 200, contentType: registry.contentType, body: await registry.metrics() };
  } catch (error) {
    return {
      status: 500,
      contentType: 'text/plain; charset=utf-8',
      body: `metrics could not be collected: ${error instanceof Error ? error.message : String(error)}\n`,
    };
  }
}

/** A health report as JSON: 200 when ok, 503 otherwise. */
export async function healthResponse(probe: () => Promise<HealthReport>): Promise<EndpointResponse> {
  const report = await probe();
  return {
    status: report.ok ? 200 : 503,
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify(report),
  };
}

function endpoints(options: EndpointOptions) {
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new TypeError(`pass ${what} to serve this endpoint`);
    return value;
  };
  return {
    metrics: () => metricsResponse(need(options.registry, 'registry')),
    healthz: () => {
      const health = need(options.health, 'health');
      return healthResponse(() => health.liveness());
    },
    readyz: () => {
      const health = need(options.health, 'health');
      return healthResponse(() => health.readiness());
    },
  };
}

/** A node:http (and Express) handler. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

function toNode(respond: () => Promise<EndpointResponse>): NodeHandler {
  return (_req, res) => {
    respond().then(
      (r) => res.writeHead(r.status, { 'content-type': r.contentType }).end(r.body),
      (error: unknown) =>
        res
          .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`${(error as Error)?.message ?? error}\n`),
    );
  };
}

/**
 * Handlers for node:http and Express.
 *
 * @example
 * ```ts
 * const h = nodeHandlers({ registry, health });
 * app.get('/metrics', h.metrics);
 * app.get('/healthz', h.healthz);
 * app.get('/readyz', h.readyz);
 * ```
 */
export function nodeHandlers(options: EndpointOptions): {
  metrics: NodeHandler;
  healthz: NodeHandler;
  readyz: NodeHandler;
} {
  const e = endpoints(options);
  return { metrics: toNode(e.metrics), healthz: toNode(e.healthz), readyz: toNode(e.readyz) };
}

/**
 * One node:http request listener serving `/metrics`, `/healthz` and
 * `/readyz` (404 for anything else): `http.createServer(httpListener({ registry, health }))`.
 */
export function httpListener(
  options: EndpointOptions & { paths?: { metrics?: string; healthz?: string; readyz?: string } },
): NodeHandler {
  const h = nodeHandlers(options);
  const routes = new Map<string, NodeHandler>([
    [options.paths?.metrics ?? '/metrics', h.metrics],
    [options.paths?.healthz ?? '/healthz', h.healthz],
    [options.paths?.readyz ?? '/readyz', h.readyz],
  ]);
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = req.method === 'GET' || req.method === 'HEAD' ? routes.get(path) : undefined;
    if (route) route(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  };
}

/** The part of a Fastify reply the handlers use. */
export interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(body: string): unknown;
}

/** A Fastify route handler. */
export type FastifyHandler = (request: unknown, reply: FastifyReplyLike) => Promise<unknown>;

function toFastify(respond: () => Promise<EndpointResponse>): FastifyHandler {
  return async (_request, reply) => {
    const r = await respond();
    return reply.code(r.status).header('content-type', r.contentType).send(r.body);
  };
}

/**
 * Handlers for Fastify.
 *
 * @example
 * ```ts
 * const h = fastifyHandlers({ registry, health });
 * app.get('/metrics', h.metrics);
 * app.get('/healthz', h.healthz);
 * app.get('/readyz', h.readyz);
 * ```
 */
export function fastifyHandlers(options: EndpointOptions): {
  metrics: FastifyHandler;
  healthz: FastifyHandler;
  readyz: FastifyHandler;
} {
  const e = endpoints(options);
  return { metrics: toFastify(e.metrics), healthz: toFastify(e.healthz), readyz: toFastify(e.readyz) };
}
