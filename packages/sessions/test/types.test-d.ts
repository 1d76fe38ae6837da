/**
 * Type tests (run by `pnpm typecheck`, not by vitest): the stores fit the
 * frameworks' own store types, and results narrow on `valid`.
 */
import fastifySession from '@fastify/session';
import type { StrataRedis } from '@stratacache/core-client';
import express from 'express';
import session from 'express-session';
import Fastify from 'fastify';
import { expectTypeOf } from 'vitest';
import { createExpressStore } from '../src/express.js';
import { createFastifyStore } from '../src/fastify.js';
import { createSessionManager, type InvalidReason } from '../src/index.js';

declare const redis: StrataRedis;
const sessions = createSessionManager<Record<string, unknown>>({ redis, secret: 'x'.repeat(32) });

const store = createExpressStore(session, sessions);
express().use(session({ store, genid: store.genid, secret: 'cookie secret' }));
expectTypeOf(store).toExtend<session.Store>();

const fastifyStore = createFastifyStore(sessions);
Fastify().register(fastifySession, { store: fastifyStore, idGenerator: fastifyStore.genid, secret: 'x'.repeat(32) });

const typed = createSessionManager<{ cart: string[] }>({ redis, secret: 'x'.repeat(32) });
async function narrowing(id: string) {
  const result = await typed.get(id, { ip: '203.0.113.1' });
  if (result.valid) expectTypeOf(result.data.cart).toEqualTypeOf<string[]>();
  else expectTypeOf(result.reason).toEqualTypeOf<InvalidReason>();
  const created = await typed.create('u', { cart: [] });
  if (created.created) expectTypeOf(created.id).toBeString();
  else expectTypeOf(created.reason).toEqualTypeOf<'limit'>();
}
void narrowing;
