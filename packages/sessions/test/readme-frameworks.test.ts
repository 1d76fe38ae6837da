/**
 * The README's Express and Fastify blocks, extracted from the README and run as written over
 * real HTTP (plain http on 127.0.0.1, as in development): a login sets a cookie that comes back
 * and finds the session, and a wrong password gets 401. The Fastify block's `secure: 'auto'` is
 * what lets the cookie work over http (@fastify/session's default is Secure).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import * as core from '@stratacache/core-client';
import { testRedisUrl } from '@stratacache/test-utils';
import { transformSync } from 'esbuild';
import express from 'express';
import session from 'express-session';
import Fastify, { type FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressStore } from '../src/express.js';
import { createFastifyStore } from '../src/fastify.js';
import { createSessionManager } from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The ts block under `heading`, types stripped, imports removed. */
function block(heading: string): string {
  const code = new RegExp(`## ${heading}\\n\\n(?:<!--[\\s\\S]*?-->\\n)?\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(
    readme,
  )?.[1];
  if (!code) throw new Error(`README has no ts block under ## ${heading}`);
  return transformSync(code.replace(/^import [^;]*;$/gm, ''), { loader: 'ts' }).code;
}

const redisClients: core.StrataRedis[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const redis of redisClients.splice(0)) await redis.close();
});

async function run(js: string, scope: Record<string, unknown>): Promise<{ app: unknown; sessions: unknown }> {
  const env = {
    SESSION_SECRET: randomBytes(32).toString('hex'),
    COOKIE_SECRET: randomBytes(32).toString('hex'),
    NODE_ENV: 'development',
  };
  const full: Record<string, unknown> = {
    ...scope,
    createRedis: () => {
      const redis = core.createRedis({ url: testRedisUrl(), env: {}, prefix: `t-${randomBytes(5).toString('hex')}` });
      redisClients.push(redis);
      return redis;
    },
    createSessionManager,
    process: { env },
    authenticate: async (body: { password?: string } | undefined) =>
      body?.password === 'right' ? { id: 'user-42' } : null,
  };
  const names = Object.keys(full);
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
  return new AsyncFunction(...names, `${js}\nreturn { app, sessions };`)(...names.map((n) => full[n]));
}

/** POSTs a login over http; the cookie pair it set, if any. */
async function login(
  base: string,
  password: string,
): Promise<{ status: number; cookie?: string; setCookie: string[] }> {
  const response = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'ada', password }),
  });
  await response.text();
  const setCookie = response.headers.getSetCookie();
  return { status: response.status, cookie: setCookie[0]?.split(';')[0], setCookie };
}

describe('README: Express block', () => {
  it('logs in over plain http and finds the session with the cookie it set', async () => {
    const { app, sessions } = await run(block('Express \\(express-session\\)'), {
      express,
      session,
      createExpressStore,
    });
    const server = (app as express.Express).get('/me', (req, res) => {
      res.json({ userId: (req.session as unknown as { userId?: string }).userId ?? null });
    });
    const listening = server.listen(0, '127.0.0.1');
    closers.push(() => new Promise((resolve) => listening.close(resolve)));
    await new Promise((resolve) => listening.once('listening', resolve));
    const base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;

    expect((await login(base, 'wrong')).status).toBe(401);
    const ok = await login(base, 'right');
    expect(ok.status).toBe(200);
    expect(ok.setCookie[0]).not.toMatch(/;\s*secure/i); // NODE_ENV is not production: http works
    const me = await fetch(`${base}/me`, { headers: { cookie: ok.cookie as string } });
    expect(await me.json()).toEqual({ userId: 'user-42' });
    expect(await (sessions as ReturnType<typeof createSessionManager>).count('user-42')).toBe(1);
  });
});

describe('README: Fastify block', () => {
  it("logs in over plain http: with secure: 'auto' the cookie is set without Secure and comes back", async () => {
    const { app, sessions } = await run(block('Fastify \\(@fastify/session\\)'), {
      fastifyCookie,
      fastifySession,
      Fastify,
      createFastifyStore,
    });
    const fastify = app as ReturnType<typeof Fastify>;
    fastify.get('/me', async (request: FastifyRequest) => ({
      userId: (request.session as unknown as { userId?: string }).userId ?? null,
    }));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => fastify.close());
    const base = `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`;

    expect((await login(base, 'wrong')).status).toBe(401);
    const ok = await login(base, 'right');
    expect(ok.status).toBe(200);
    expect(ok.cookie).toMatch(/^sessionId=/);
    expect(ok.setCookie[0]).not.toMatch(/;\s*secure/i);
    const me = await fetch(`${base}/me`, { headers: { cookie: ok.cookie as string } });
    expect(await me.json()).toEqual({ userId: 'user-42' });
    expect(await (sessions as ReturnType<typeof createSessionManager>).count('user-42')).toBe(1);
  });
});
