/**
 * Coordination state, read from the keys `@stratacache/coordination` writes
 * (namespace `coord` unless configured): fenced locks (holder token, the
 * fencing token last issued, TTL) with a force release, task claims, the
 * registry (private config fields masked), heartbeats with liveness, and a
 * rate limiter's state for one identity, with a reset. Releases and resets
 * are audited. A force release is a compare-and-delete on the token shown,
 * so it can never release a newer holder's lock.
 */

import { createRateLimiter } from '@stratacache/coordination';
import { luaScripts as coreScripts } from '@stratacache/core-client';
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { html, type SafeHtml, showBytes } from '../html.js';
import { decodeKeyPart } from '../key-id.js';
import { csrfField, duration, errorBox, note, type PageContext, page, when } from '../layout.js';
import { actor, field, pageContext, sendPage } from '../respond.js';
import { scanBounded } from '../scan.js';
import { HttpError } from '../security.js';
import { PAGE_BUDGET_MS, within } from '../timeout.js';

/** Most items listed per section. */
const LIST = 200;

/** `{name}` (a hash tag, encoded) -> name. */
function untag(part: string): string {
  return decodeKeyPart(part.startsWith('{') && part.endsWith('}') ? part.slice(1, -1) : part);
}

async function locksSection(ctx: AdminContext, pc: PageContext): Promise<SafeHtml> {
  const keys = ctx.redis.keys(ctx.options.coordNamespace);
  const head = `${keys.prefix}:${keys.namespace}:lock:`;
  const found = await scanBounded(ctx.redis, keys.under('lock'), { budget: ctx.options.scanBudget, limit: LIST });
  const rows = await Promise.all(
    found.keys.sort().map(async (key) => {
      const name = untag(key.slice(head.length));
      const [token, pttl, fence] = await ctx.redis.run('lock', (c) =>
        Promise.all([c.get(key), c.pttl(key), c.get(keys.key('lock-fence', keys.tag(name)))]),
      );
      if (token === null) return html``;
      return html`<tr><td><code>${name}</code></td><td><code>${token.slice(0, 8)}…</code></td><td>${fence ?? '-'}</td><td>${duration(pttl)}</td>
${
  pc.role === 'admin'
    ? html`<td><form method="post" action="/coordination/locks/release">${csrfField(pc)}<input type="hidden" name="name" value="${name}"><input type="hidden" name="token" value="${token}">
<button type="submit" class="danger">Force release</button></form></td>`
    : ''
}</tr>`;
    }),
  );
  return html`<h2>Locks</h2>
${note('A lock holds a random token, not a process name: the holder is whoever has that token. The fencing token is the last one issued for the name; storage that checks fences refuses writes of older holders after a force release.')}
${
  found.keys.length === 0
    ? html`<p>No lock is held.</p>`
    : html`<table class="grid" data-testid="locks"><thead><tr><th>name</th><th>holder token</th><th>fencing token</th><th>TTL</th>${pc.role === 'admin' ? html`<th></th>` : ''}</tr></thead><tbody>${rows}</tbody></table>`
}${found.complete ? '' : note('More locks exist than are listed.')}`;
}

async function claimsSection(ctx: AdminContext): Promise<SafeHtml> {
  const keys = ctx.redis.keys(ctx.options.coordNamespace);
  const head = `${keys.prefix}:${keys.namespace}:claim:`;
  const found = await scanBounded(ctx.redis, keys.under('claim'), { budget: ctx.options.scanBudget, limit: LIST });
  const rows = await Promise.all(
    found.keys.sort().map(async (key) => {
      const [owner, pttl] = await ctx.redis.run('claim', (c) => Promise.all([c.get(key), c.pttl(key)]));
      return html`<tr><td><code>${decodeKeyPart(key.slice(head.length))}</code></td><td><code>${owner ?? '-'}</code></td><td>${duration(pttl)}</td></tr>`;
    }),
  );
  return html`<h2>Task claims</h2>${found.keys.length === 0 ? html`<p>No task is claimed.</p>` : html`<table class="grid"><thead><tr><th>task</th><th>owner</th><th>TTL</th></tr></thead><tbody>${rows}</tbody></table>`}`;
}

interface StoredEntry {
  kind?: string;
  name?: string;
  config?: Record<string, unknown>;
  scope?: string;
  dependsOn?: string[];
  privateFields?: string[];
  version?: number;
  updatedAt?: number;
}

async function registrySection(ctx: AdminContext): Promise<SafeHtml> {
  const keys = ctx.redis.keys(ctx.options.coordNamespace);
  const found = await scanBounded(ctx.redis, keys.under('registry'), { budget: ctx.options.scanBudget, type: 'hash' });
  const parts: SafeHtml[] = [];
  for (const key of found.keys.filter((k) => k.endsWith(':entries')).sort()) {
    const registry = untag(key.split(':').at(-2) ?? '');
    const entries = await ctx.redis.run('hgetall', (c) => c.hgetall(key));
    const rows = Object.entries(entries).map(([id, raw]) => {
      let entry: StoredEntry = {};
      try {
        entry = JSON.parse(raw) as StoredEntry;
      } catch {
        return html`<tr><td><code>${id}</code></td><td colspan="4">not JSON</td></tr>`;
      }
      // Private fields are for readers of the registering scope: masked here as they would be for others.
      const config = { ...(entry.config ?? {}) };
      for (const f of entry.privateFields ?? []) if (f in config) config[f] = '(private)';
      return html`<tr><td><code>${id}</code></td><td>${entry.scope ?? ''}</td><td>${(entry.dependsOn ?? []).join(', ') || '-'}</td><td><code>${JSON.stringify(config)}</code></td><td>${when(entry.updatedAt)}</td></tr>`;
    });
    parts.push(
      html`<h3>Registry <code>${registry}</code></h3><table class="grid"><thead><tr><th>entry</th><th>scope</th><th>depends on</th><th>config</th><th>updated</th></tr></thead><tbody>${rows}</tbody></table>`,
    );
  }
  return html`<h2>Registry</h2>${parts.length === 0 ? html`<p>No registry found.</p>` : parts}`;
}

async function heartbeatsSection(ctx: AdminContext): Promise<SafeHtml> {
  const keys = ctx.redis.keys(ctx.options.coordNamespace);
  const found = await scanBounded(ctx.redis, keys.under('hb'), { budget: ctx.options.scanBudget, type: 'zset' });
  await ctx.redis.clock.ready().catch(() => {});
  const now = ctx.redis.clock.now();
  const window = 30_000;
  const parts: SafeHtml[] = [];
  for (const key of found.keys.filter((k) => k.endsWith(':beats')).sort()) {
    const group = untag(key.split(':').at(-2) ?? '');
    const flat = await ctx.redis.run('zrange', (c) => c.zrange(key, '0', String(LIST - 1), 'REV', 'WITHSCORES'));
    const rows: SafeHtml[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const at = Number(flat[i + 1]);
      const alive = now - at <= window;
      rows.push(
        html`<tr><td><code>${flat[i] as string}</code></td><td>${when(at)}</td><td>${duration(now - at)} ago</td><td class="${alive ? 'ok' : 'bad'}">${alive ? 'alive' : 'silent'}</td></tr>`,
      );
    }
    parts.push(
      html`<h3>Group <code>${group}</code></h3><table class="grid"><thead><tr><th>worker</th><th>last beat</th><th>age</th><th>liveness</th></tr></thead><tbody>${rows}</tbody></table>`,
    );
  }
  return html`<h2>Heartbeats</h2>${note("Alive: beat within 30 s (coordination's default window; the application may use another).")}${parts.length === 0 ? html`<p>No heartbeat group found.</p>` : parts}`;
}

function checkLimiter(name: string, id: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
    throw new HttpError(400, 'limiter must be a limiter name (letters, digits, _ or -)');
  if (id === '' || id.length > 512) throw new HttpError(400, 'id must be 1 to 512 characters');
}

async function rateLimitSection(ctx: AdminContext, pc: PageContext, name: string, id: string): Promise<SafeHtml> {
  const keys = ctx.redis.keys(ctx.options.ratelimitNamespace);
  const form = html`<form class="filters" method="get" action="/coordination"><label>Limiter <input name="limiter" value="${name}" placeholder="sliding-window"></label>
<label>Identity <input name="id" value="${id}" placeholder="ip:203.0.113.7"></label><button type="submit">Show state</button></form>`;
  if (!name || !id) return html`<h2>Rate limits</h2>${form}`;
  checkLimiter(name, id);
  const tag = keys.tag(`${name}:${id}`);
  const [stateKey, blockKey] = [keys.key('rl', tag, 'state'), keys.key('rl', tag, 'block')];
  const info = await Promise.all(
    [stateKey, blockKey].map(async (key) => {
      const [type, pttl] = await ctx.redis.run('type', (c) => Promise.all([c.type(key), c.pttl(key)]));
      let value = '';
      if (type === 'hash') value = JSON.stringify(await ctx.redis.run('hgetall', (c) => c.hgetall(key)));
      else if (type === 'zset') value = `${await ctx.redis.run('zcard', (c) => c.zcard(key))} requests in the log`;
      else if (type === 'string') value = String(await ctx.redis.run('get', (c) => c.get(key)));
      return { key, type, pttl, value };
    }),
  );
  return html`<h2>Rate limits</h2>${form}
<table class="grid" data-testid="ratelimit"><thead><tr><th>key</th><th>type</th><th>state</th><th>TTL</th></tr></thead><tbody>${info.map(
    (i) =>
      html`<tr><td><code>${showBytes(Buffer.from(i.key))}</code></td><td>${i.type === 'none' ? 'absent' : i.type}</td><td><code>${i.value}</code></td><td>${i.type === 'none' ? '-' : duration(i.pttl)}</td></tr>`,
  )}</tbody></table>
${
  pc.role === 'admin'
    ? html`<form method="post" action="/coordination/ratelimit/reset">${csrfField(pc)}<input type="hidden" name="limiter" value="${name}"><input type="hidden" name="id" value="${id}">
<button type="submit" class="danger">Reset this identity</button></form>`
    : ''
}`;
}

export function registerCoordinationRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/coordination', async (request, reply) => {
    const pc = pageContext(request, reply);
    const limiter = field(request.query, 'limiter');
    const id = field(request.query, 'id');
    const section = async (what: string, build: () => Promise<SafeHtml>) =>
      within(build(), PAGE_BUDGET_MS, what).catch((error: unknown) => {
        if (error instanceof HttpError) throw error;
        return errorBox(`${what} could not be read`, error);
      });
    const parts = await Promise.all([
      section('Locks', () => locksSection(ctx, pc)),
      section('Claims', () => claimsSection(ctx)),
      section('The registry', () => registrySection(ctx)),
      section('Heartbeats', () => heartbeatsSection(ctx)),
      section('The rate limit', () => rateLimitSection(ctx, pc, limiter, id)),
    ]);
    return sendPage(
      reply,
      page(
        'Coordination',
        '/coordination',
        pc,
        html`${note(`Namespace ${ctx.options.coordNamespace} (locks, claims, registry, heartbeats) and ${ctx.options.ratelimitNamespace} (rate limits).`)}${parts}`,
      ),
    );
  });

  app.post('/coordination/locks/release', { config: { access: 'write' } }, async (request, reply) => {
    const name = field(request.body, 'name');
    const token = field(request.body, 'token');
    if (!name || !token) throw new HttpError(400, 'name and token are required');
    const keys = ctx.redis.keys(ctx.options.coordNamespace);
    const key = keys.key('lock', keys.tag(name));
    const released = await ctx.audit.run(
      { ...actor(request), action: 'lock.force-release', target: name, detail: `token ${token.slice(0, 8)}…` },
      () => ctx.redis.runScript(coreScripts.compareAndDelete, [key], [token]),
    );
    if (Number(released) !== 1)
      throw new HttpError(
        409,
        'The lock is no longer held with that token (released, expired or taken by another holder); nothing was changed.',
      );
    return reply.redirect('/coordination', 303);
  });

  app.post('/coordination/ratelimit/reset', { config: { access: 'write' } }, async (request, reply) => {
    const name = field(request.body, 'limiter');
    const id = field(request.body, 'id');
    checkLimiter(name, id);
    // reset() only deletes the identity's keys; limit and window do not matter for it.
    const limiter = createRateLimiter(ctx.redis, {
      namespace: ctx.options.ratelimitNamespace,
      name,
      limit: 1,
      window: 1000,
    });
    await ctx.audit.run({ ...actor(request), action: 'ratelimit.reset', target: `${name} ${id}` }, () =>
      limiter.reset(id),
    );
    return reply.redirect(`/coordination?limiter=${encodeURIComponent(name)}&id=${encodeURIComponent(id)}`, 303);
  });
}
