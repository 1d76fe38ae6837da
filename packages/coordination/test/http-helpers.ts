/** Real HTTP for the rate-limit middleware tests: servers on 127.0.0.1, requests with fetch. */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';

const servers: (() => Promise<unknown>)[] = [];

/** Serves `listener` on a free port of 127.0.0.1; closed after the file. */
export async function serve(listen: (port: number, host: string) => Server): Promise<string> {
  const server = listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  servers.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Registers a closer to run after the file (a Fastify app). */
export function closeLater(close: () => Promise<unknown>): void {
  servers.push(close);
}

/** One response: status, the rate-limit headers, the JSON body. */
export interface Answer {
  status: number;
  headers: Record<string, string | null>;
  body: unknown;
}

const WATCHED = [
  'ratelimit',
  'ratelimit-policy',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'retry-after',
  'x-ratelimit-source',
  'content-type',
];

/** Sends a request and reads what a client would look at. */
export async function send(
  url: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(url, { method: init.method ?? 'GET', headers: init.headers ?? {} });
  const text = await response.text();
  const headers: Record<string, string | null> = {};
  for (const name of WATCHED) headers[name] = response.headers.get(name);
  return { status: response.status, headers, body: text ? JSON.parse(text) : undefined };
}

/** `n` requests in sequence; their statuses. */
export async function statuses(n: number, url: string, init?: Parameters<typeof send>[1]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(url, init)).status);
  return out;
}

afterAll(async () => {
  for (const close of servers.splice(0)) await close();
});
