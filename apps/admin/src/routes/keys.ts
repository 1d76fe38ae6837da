/**
 * The key browser: SCAN by namespace, kind and type with a cursor the
 * browser carries (never KEYS), each key's type, TTL and size; a key's value;
 * and the write actions, each audited: edit the TTL, delete (a Cache entry
 * becomes a tombstone, see entry-delete.ts; every instance's memory tier is
 * told over the bus), and delete by prefix after a dry-run count and a confirmation.
 */
import { escapeGlob } from '@stratacache/core-client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminContext } from '../context.js';
import { deleteByPrefix, deleteOneKey, ENTRY_KEY_KIND } from '../entry-delete.js';
import { ENTRY_MAGIC } from '../entry-header.js';
import { html, type SafeHtml, showBytes } from '../html.js';
import { invalidatorFor } from '../invalidators.js';
import { keyFromId, keyId, parseKey } from '../key-id.js';
import { bytes, csrfField, duration, errorBox, note, type PageContext, page } from '../layout.js';
import { actor, field, isHtmx, pageContext, sendPage } from '../respond.js';
import { type ScanPage, scanNodes, scanPage } from '../scan.js';
import { HttpError } from '../security.js';
import { PAGE_BUDGET_MS, within } from '../timeout.js';
import { renderValue } from '../views/value-view.js';

const NAME = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})*$/;
const TYPES = ['', 'string', 'hash', 'list', 'set', 'zset', 'stream'];

interface Filter {
  ns: string;
  kind: string;
  type: string;
}

function readFilter(query: unknown): Filter {
  const ns = field(query, 'ns').trim();
  const kind = field(query, 'kind').trim();
  const type = field(query, 'type');
  if (ns && !NAME.test(ns)) throw new HttpError(400, 'namespace must be letters, digits, _ or -, nested with .');
  if (kind && !/^[A-Za-z0-9_-]{1,64}$/.test(kind)) throw new HttpError(400, 'kind must be letters, digits, _ or -');
  if (kind && !ns) throw new HttpError(400, 'a kind needs a namespace');
  if (!TYPES.includes(type)) throw new HttpError(400, 'type must be string, hash, list, set, zset or stream');
  return { ns, kind, type };
}

/** The SCAN pattern of a filter, built by the key builder (every literal part escaped). */
function patternOf(ctx: AdminContext, f: Filter): string {
  if (!f.ns) return `${escapeGlob(ctx.redis.options.prefix)}:*`;
  const keys = ctx.redis.keys(f.ns);
  return f.kind ? keys.under(f.kind) : keys.all();
}

function query(f: Filter, cursor?: string): string {
  const params = new URLSearchParams();
  if (f.ns) params.set('ns', f.ns);
  if (f.kind) params.set('kind', f.kind);
  if (f.type) params.set('type', f.type);
  if (cursor) params.set('cursor', cursor);
  return params.toString();
}

/** Rows of a page: type, TTL and size of each key, pipelined on the node that holds it. */
async function rows(ctx: AdminContext, result: ScanPage): Promise<SafeHtml[]> {
  const nodes = scanNodes(ctx.redis);
  const out: SafeHtml[] = [];
  const byNode = new Map<number, Buffer[]>();
  for (const k of result.keys) byNode.set(k.node, [...(byNode.get(k.node) ?? []), k.key]);
  for (const [index, keys] of byNode) {
    const node = nodes[index];
    if (!node) continue;
    const replies = await ctx.redis.run('pipeline', async () => {
      const p = node.pipeline();
      for (const key of keys) p.type(key).pttl(key).call('MEMORY', 'USAGE', key);
      return (await p.exec()) ?? [];
    });
    keys.forEach((key, i) => {
      const [, type] = replies[i * 3] ?? [];
      const [, pttl] = replies[i * 3 + 1] ?? [];
      const [, size] = replies[i * 3 + 2] ?? [];
      const ttl = Number(pttl);
      out.push(html`<tr>
<td><a class="key" href="/keys/view?k=${keyId(key)}">${showBytes(key)}</a></td>
<td>${String(type ?? '?')}</td>
<td>${ttl === -1 ? 'none' : ttl === -2 ? 'gone' : duration(ttl)}</td>
<td>${bytes(size === null || size === undefined ? null : Number(size))}</td></tr>`);
    });
  }
  return out;
}

function moreRow(f: Filter, next: string | null): SafeHtml {
  if (next === null) return html`<tr class="end"><td colspan="4">End of the keyspace.</td></tr>`;
  return html`<tr class="more"><td colspan="4"><a href="/keys?${query(f, next)}" hx-get="/keys?${query(f, next)}" hx-target="closest tr" hx-swap="outerHTML">Next page</a></td></tr>`;
}

function filterForm(f: Filter): SafeHtml {
  return html`<form class="filters" method="get" action="/keys">
<label>Namespace <input name="ns" value="${f.ns}" placeholder="cache.users"></label>
<label>Kind <input name="kind" value="${f.kind}" placeholder="e"></label>
<label>Type <select name="type">${TYPES.map((t) => html`<option value="${t}"${t === f.type ? html` selected` : ''}>${t || 'any'}</option>`)}</select></label>
<button type="submit">Scan</button>
</form>`;
}

async function keyInfo(ctx: AdminContext, key: Buffer) {
  const [type, pttl, size, encoding] = await Promise.all([
    ctx.redis.run('type', (c) => c.type(key)),
    ctx.redis.run('pttl', (c) => c.pttl(key)),
    ctx.redis.run('memory', (c) => c.call('MEMORY', 'USAGE', key) as Promise<number | null>),
    ctx.redis.run('object', (c) => c.call('OBJECT', 'ENCODING', key).catch(() => null) as Promise<string | null>),
  ]);
  return { type, pttl, size, encoding };
}

function ttlCell(pttl: number): SafeHtml {
  return html`<span id="ttl-value" data-testid="ttl">${pttl === -1 ? 'none' : pttl === -2 ? 'gone' : duration(pttl)}</span>`;
}

function ttlForm(pc: PageContext, id: string): SafeHtml {
  return html`<form class="inline" method="post" action="/keys/ttl" hx-post="/keys/ttl" hx-target="#ttl-value" hx-swap="outerHTML">
${csrfField(pc)}<input type="hidden" name="k" value="${id}">
<label>New TTL (seconds, empty for none) <input name="ttl" inputmode="numeric" size="8"></label>
<button type="submit">Set TTL</button></form>`;
}

/** What the confirmation says will happen to `key`: a Cache entry (first bytes read) becomes a tombstone. */
async function deletePlan(ctx: AdminContext, key: Buffer): Promise<SafeHtml> {
  const parts = parseKey(key, ctx.redis.options.prefix);
  const life = duration(ctx.options.tombstoneMs);
  if (parts?.kind === ENTRY_KEY_KIND) {
    const head = await within(
      ctx.redis.run('getrange', (c) => c.getrangeBuffer(key, 0, 1)).catch(() => Buffer.alloc(0)),
      PAGE_BUDGET_MS,
      'entry check',
    );
    if (head[0] === ENTRY_MAGIC) {
      return html`<p data-testid="delete-plan">This is a Cache entry: it is replaced by a tombstone that lives ${life}, as the Cache's own delete does, so a load that read the source before cannot write its old value back. Running instances drop their memory copies over the bus.</p>`;
    }
  }
  return html`<p data-testid="delete-plan">${
    parts
      ? 'The key is unlinked, and running instances are told over the bus to drop their memory copies.'
      : 'The key is unlinked.'
  }</p>`;
}

export function registerKeyRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/keys', async (request, reply) => {
    const f = readFilter(request.query);
    const cursor = field(request.query, 'cursor') || undefined;
    let list: SafeHtml;
    try {
      const result = await within(
        scanPage(ctx.redis, patternOf(ctx, f), { cursor, pageSize: ctx.options.pageSize, type: f.type || undefined }),
        PAGE_BUDGET_MS,
        'SCAN',
      );
      const body = html`${await within(rows(ctx, result), PAGE_BUDGET_MS, 'key details')}${moreRow(f, result.next)}`;
      if (isHtmx(request) && cursor) return sendPage(reply, body);
      list = html`<table class="grid keys" data-testid="keys"><thead><tr><th>key</th><th>type</th><th>TTL</th><th>size</th></tr></thead>
<tbody>${body}</tbody></table>
${result.nodes > 1 ? note(`Cluster: scanning ${result.nodes} masters one after another; the cursor says which.`) : ''}`;
    } catch (error) {
      if (error instanceof RangeError) throw new HttpError(400, error.message);
      if (isHtmx(request) && cursor) throw error;
      list = errorBox('The keys could not be scanned', error);
    }
    const pc = pageContext(request, reply);
    return sendPage(
      reply,
      page(
        'Keys',
        '/keys',
        pc,
        html`${filterForm(f)}
${note(html`SCAN with MATCH <code>${patternOf(ctx, f)}</code>, ${ctx.options.pageSize} keys a page; never KEYS.`)}
${f.ns ? html`<p><a href="/keys/invalidate?ns=${f.ns}&amp;prefix=${f.kind ? `${f.kind}:` : ''}">Delete keys of ${f.ns} by prefix…</a></p>` : ''}
${list}`,
      ),
    );
  });

  app.get('/keys/view', async (request, reply) => {
    const id = field(request.query, 'k');
    const key = keyFromId(id);
    const pc = pageContext(request, reply);
    let body: SafeHtml;
    try {
      const info = await within(keyInfo(ctx, key), PAGE_BUDGET_MS, 'key info');
      if (info.type === 'none') {
        body = html`<p>No such key (it may have expired or been deleted).</p>`;
      } else {
        const parts = parseKey(key, ctx.redis.options.prefix);
        const value = await within(renderValue(ctx.redis, key, info.type), PAGE_BUDGET_MS, 'value');
        body = html`<table class="kv">
<tr><th>key</th><td><code data-testid="key-name">${showBytes(key)}</code></td></tr>
${parts ? html`<tr><th>namespace / kind</th><td>${parts.namespace} / ${parts.kind}</td></tr>` : ''}
<tr><th>type</th><td>${info.type}${info.encoding ? ` (${info.encoding})` : ''}</td></tr>
<tr><th>TTL</th><td>${ttlCell(info.pttl)}</td></tr>
<tr><th>size</th><td>${bytes(info.size)}</td></tr>
</table>
${
  pc.role === 'admin'
    ? html`<div class="actions">${ttlForm(pc, id)}
<form class="inline" method="get" action="/keys/delete"><input type="hidden" name="k" value="${id}"><button type="submit" class="danger">Delete…</button></form></div>`
    : ''
}
${value}`;
      }
    } catch (error) {
      body = errorBox('The key could not be read', error);
    }
    return sendPage(reply, page('Key', '/keys', pc, body));
  });

  app.post('/keys/ttl', { config: { access: 'write' } }, async (request, reply) => {
    const id = field(request.body, 'k');
    const key = keyFromId(id);
    const text = field(request.body, 'ttl').trim();
    if (text !== '' && !/^\d{1,10}$/.test(text))
      throw new HttpError(400, 'ttl must be a whole number of seconds, or empty for none');
    const seconds = text === '' ? undefined : Number(text);
    if (seconds === 0) throw new HttpError(400, 'ttl must be at least 1 second (delete the key instead)');
    const changed = await ctx.audit.run(
      {
        ...actor(request),
        action: 'key.ttl',
        target: showBytes(key),
        detail: seconds === undefined ? 'persist' : `${seconds}s`,
      },
      () =>
        ctx.redis.run(seconds === undefined ? 'persist' : 'pexpire', (c) =>
          seconds === undefined ? c.persist(key) : c.pexpire(key, seconds * 1000),
        ),
    );
    if (isHtmx(request)) {
      const pttl = await ctx.redis.run('pttl', (c) => c.pttl(key));
      return sendPage(reply, ttlCell(pttl));
    }
    if (!changed && seconds !== undefined) throw new HttpError(404, 'No such key.');
    return reply.redirect(`/keys/view?k=${id}`, 303);
  });

  app.get('/keys/delete', { config: { access: 'write' } }, async (request, reply) => {
    const id = field(request.query, 'k');
    const key = keyFromId(id);
    const pc = pageContext(request, reply);
    return sendPage(
      reply,
      page(
        'Delete a key',
        '/keys',
        pc,
        html`<p>Delete <code>${showBytes(key)}</code>?</p>${await deletePlan(ctx, key)}
<form method="post" action="/keys/delete">${csrfField(pc)}<input type="hidden" name="k" value="${id}">
<button type="submit" class="danger">Delete it</button> <a href="/keys/view?k=${id}">Cancel</a></form>`,
      ),
    );
  });

  app.post('/keys/delete', { config: { access: 'write' } }, async (request, reply) => {
    const key = keyFromId(field(request.body, 'k'));
    const parts = parseKey(key, ctx.redis.options.prefix);
    await ctx.audit.run(
      {
        ...actor(request),
        action: 'key.delete',
        target: showBytes(key),
        detail:
          parts?.kind === ENTRY_KEY_KIND
            ? `a tombstone for ${ctx.options.tombstoneMs} ms if it holds a Cache entry, else unlinked`
            : '',
      },
      () => deleteOneKey(ctx, key, parts),
    );
    return reply.redirect(parts ? `/keys?ns=${encodeURIComponent(parts.namespace)}` : '/keys', 303);
  });

  const invalidateForm = async (request: FastifyRequest, reply: FastifyReply) => {
    const ns = field(request.query, 'ns');
    const prefix = field(request.query, 'prefix');
    if (!NAME.test(ns)) throw new HttpError(400, 'ns must be a key namespace');
    const pc = pageContext(request, reply);
    let body: SafeHtml;
    try {
      const count = await within(
        invalidatorFor(ctx, ns).deleteByPrefix(prefix, { dryRun: true }),
        PAGE_BUDGET_MS * 4,
        'dry run',
      );
      body = html`<p data-testid="dry-run">A dry run found <strong>${count}</strong> keys of <code>${ns}</code> starting with <code>${prefix}</code>.</p>
${
  count === 0
    ? html`<p>Nothing to delete.</p>`
    : html`<form method="post" action="/keys/invalidate">${csrfField(pc)}
<input type="hidden" name="ns" value="${ns}"><input type="hidden" name="prefix" value="${prefix}"><input type="hidden" name="expected" value="${count}">
${note(`Cache entries among them are replaced by tombstones that live ${duration(ctx.options.tombstoneMs)} (so a load in flight cannot write an old value back; a dry run during that time counts them again); other keys are unlinked.`)}
<label><input type="checkbox" name="confirm" value="yes" required> Delete these ${count} keys in Redis and on every instance</label>
<button type="submit" class="danger">Delete</button></form>`
}`;
    } catch (error) {
      body = errorBox('The dry run failed', error);
    }
    return sendPage(
      reply,
      page(
        'Delete by prefix',
        '/keys',
        pc,
        html`<form class="filters" method="get" action="/keys/invalidate"><label>Namespace <input name="ns" value="${ns}"></label>
<label>Prefix (after the namespace) <input name="prefix" value="${prefix}"></label><button type="submit">Count</button></form>${body}`,
      ),
    );
  };
  app.get('/keys/invalidate', { config: { access: 'write' } }, invalidateForm);

  app.post('/keys/invalidate', { config: { access: 'write' } }, async (request, reply) => {
    const ns = field(request.body, 'ns');
    const prefix = field(request.body, 'prefix');
    if (!NAME.test(ns)) throw new HttpError(400, 'ns must be a key namespace');
    if (field(request.body, 'confirm') !== 'yes') throw new HttpError(400, 'Confirm the deletion first.');
    const counts = await ctx.audit.run(
      {
        ...actor(request),
        action: 'keys.delete-prefix',
        target: `${ns}:${prefix}`,
        detail: `dry run counted ${field(request.body, 'expected')}`,
      },
      () => deleteByPrefix(ctx, ns, prefix),
    );
    const pc = pageContext(request, reply);
    return sendPage(
      reply,
      page(
        'Deleted',
        '/keys',
        pc,
        html`<p data-testid="deleted">Deleted ${counts.tombstoned + counts.unlinked} keys of <code>${ns}</code> starting with <code>${prefix}</code>: ${counts.tombstoned} Cache entries replaced by tombstones (for ${duration(ctx.options.tombstoneMs)}), ${counts.unlinked} other keys unlinked${counts['was-tombstone'] > 0 ? `, ${counts['was-tombstone']} tombstones of earlier deletes renewed` : ''}.</p><p><a href="/keys?ns=${ns}">Back to the keys</a></p>`,
      ),
    );
  });
}
