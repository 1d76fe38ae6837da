/**
 * Write-behind journals of `@stratacache/patterns` (its docs/write-behind.md):
 * the Stream `{prefix}:{namespace}:wb:journal` (fields k key, o op, v value,
 * t time) read by a consumer group, and the dead letters in
 * `{prefix}:{namespace}:wb:dead` (plus j journal id, r reason, e error,
 * a attempts, c consumer, f failed at). Shown: depth, groups with their
 * pending counts and lag, pending per consumer, and the dead letters.
 * Retry puts a dead letter back in the journal (XADD, then XDEL from the
 * dead-letter stream, the order the package itself uses: a crash between the
 * two leaves a duplicate, never a loss); drop deletes it. Both audited.
 */
import { escapeGlob } from '@stratacache/core-client';
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { html, type SafeHtml, showBytes } from '../html.js';
import { csrfField, duration, errorBox, note, type PageContext, page, when } from '../layout.js';
import { actor, field, pageContext, sendPage } from '../respond.js';
import { scanBounded } from '../scan.js';
import { HttpError } from '../security.js';
import { PAGE_BUDGET_MS, within } from '../timeout.js';
import { decodeValue } from '../value-decode.js';

const NAME = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})*$/;
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
/** Dead letters listed. */
const DEAD_SHOWN = 50;

function streamKeys(ctx: AdminContext, ns: string): { journal: string; dead: string } {
  if (!NAME.test(ns)) throw new HttpError(400, 'ns must be a key namespace');
  const keys = ctx.redis.keys(ns);
  return { journal: keys.key('wb', 'journal'), dead: keys.key('wb', 'dead') };
}

/** A flat `[k, v, k, v]` reply (strings or Buffers) as a map. */
function pairs(flat: unknown[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) out.set(String(flat[i]), flat[i + 1]);
  return out;
}

async function journals(ctx: AdminContext): Promise<{ names: string[]; complete: boolean }> {
  const prefix = ctx.redis.options.prefix;
  const found = await scanBounded(ctx.redis, `${escapeGlob(prefix)}:*:wb:journal`, {
    budget: ctx.options.scanBudget,
    type: 'stream',
  });
  const names = found.keys.map((k) => k.slice(prefix.length + 1, -':wb:journal'.length)).filter((n) => NAME.test(n));
  return { names: names.sort(), complete: found.complete };
}

async function detail(ctx: AdminContext, pc: PageContext, ns: string): Promise<SafeHtml> {
  const { journal, dead } = streamKeys(ctx, ns);
  const run = ctx.redis.run.bind(ctx.redis);
  const [depth, deadDepth] = await run('xlen', (c) => Promise.all([c.xlen(journal), c.xlen(dead)]));
  const groups = ((await run('xinfo', (c) => c.xinfo('GROUPS', journal).catch(() => []))) as unknown[][]).map(pairs);
  const groupParts: SafeHtml[] = [];
  for (const g of groups) {
    const name = String(g.get('name'));
    const consumers = ((await run('xinfo', (c) => c.xinfo('CONSUMERS', journal, name))) as unknown[][]).map(pairs);
    groupParts.push(html`<h3>Group <code>${name}</code>: ${String(g.get('pending'))} pending${g.has('lag') ? `, lag ${String(g.get('lag'))}` : ''}</h3>
<table class="grid"><thead><tr><th>consumer</th><th>pending</th><th>idle</th></tr></thead><tbody>${consumers.map(
      (c) =>
        html`<tr><td><code>${String(c.get('name'))}</code></td><td>${String(c.get('pending'))}</td><td>${duration(Number(c.get('idle')))}</td></tr>`,
    )}</tbody></table>`);
  }
  const entries = (await run('xrange', (c) => c.xrangeBuffer(dead, '-', '+', 'COUNT', DEAD_SHOWN))) as [
    Buffer,
    Buffer[],
  ][];
  const rows = entries.map(([rawId, flat]) => {
    const id = rawId.toString();
    const f = pairs(flat) as Map<string, Buffer>;
    const text = (name: string) => f.get(name)?.toString() ?? '';
    const value = f.get('v');
    const shown = value && value.length > 0 ? (decodeValue(value).decoded ?? showBytes(value.subarray(0, 300))) : '';
    return html`<tr><td><code>${id}</code></td><td><code>${showBytes(f.get('k') ?? Buffer.alloc(0))}</code></td><td>${text('o') === 'd' ? 'delete' : 'set'}</td>
<td><code>${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}</code></td><td>${text('r')}</td><td>${text('e')}</td><td>${text('a')}</td><td>${when(Number(text('f')))}</td>
${
  pc.role === 'admin'
    ? html`<td><form class="inline" method="post" action="/write-behind/dead/retry">${csrfField(pc)}<input type="hidden" name="ns" value="${ns}"><input type="hidden" name="id" value="${id}"><button type="submit">Retry</button></form>
<form class="inline" method="post" action="/write-behind/dead/drop">${csrfField(pc)}<input type="hidden" name="ns" value="${ns}"><input type="hidden" name="id" value="${id}"><button type="submit" class="danger">Drop</button></form></td>`
    : ''
}</tr>`;
  });
  return html`<section class="cards"><div class="card"><h2>Journal depth</h2><p class="big" data-testid="depth">${depth}</p><p>unflushed writes (pending included)</p></div>
<div class="card ${deadDepth > 0 ? 'bad' : 'ok'}"><h2>Dead letters</h2><p class="big" data-testid="dead-depth">${deadDepth}</p><p>never trimmed: retry or drop them</p></div></section>
${groups.length === 0 ? html`<p>No consumer group: no worker has started on this journal yet.</p>` : groupParts}
<h2>Dead letters</h2>${deadDepth > entries.length ? note(`The oldest ${entries.length} shown.`) : ''}
${
  entries.length === 0
    ? html`<p>None.</p>`
    : html`<table class="grid" data-testid="dead-letters"><thead><tr><th>id</th><th>key</th><th>op</th><th>value</th><th>reason</th><th>error</th><th>attempts</th><th>failed at</th>${pc.role === 'admin' ? html`<th></th>` : ''}</tr></thead><tbody>${rows}</tbody></table>`
}
${note("Retry appends the entry to the journal again (its writer must be idempotent, as for any write-behind entry); the journal's maxLength is the application's setting and is not checked here.")}`;
}

async function readDead(ctx: AdminContext, ns: string, id: string): Promise<Map<string, Buffer>> {
  if (!STREAM_ID.test(id)) throw new HttpError(400, 'id must be a stream id');
  const { dead } = streamKeys(ctx, ns);
  const found = (await ctx.redis.run('xrange', (c) => c.xrangeBuffer(dead, id, id))) as [Buffer, Buffer[]][];
  const entry = found[0];
  if (!entry) throw new HttpError(404, 'No such dead letter (retried or dropped already?).');
  return pairs(entry[1]) as Map<string, Buffer>;
}

export function registerWriteBehindRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/write-behind', async (request, reply) => {
    const ns = field(request.query, 'ns');
    const pc = pageContext(request, reply);
    let body: SafeHtml;
    try {
      const list = await within(journals(ctx), PAGE_BUDGET_MS * 2, 'journal discovery');
      body = html`<p>Journals: ${list.names.length === 0 ? 'none found' : list.names.map((n) => html`<a href="/write-behind?ns=${n}">${n}</a> `)}</p>
${list.complete ? '' : note('The scan budget ran out: there may be more journals.')}
${ns ? html`<h2>${ns}</h2>${await within(detail(ctx, pc, ns), PAGE_BUDGET_MS, 'journal')}` : ''}`;
    } catch (error) {
      if (error instanceof HttpError) throw error;
      body = errorBox('The journals could not be read', error);
    }
    return sendPage(reply, page('Write-behind', '/write-behind', pc, body));
  });

  app.post('/write-behind/dead/retry', { config: { access: 'write' } }, async (request, reply) => {
    const ns = field(request.body, 'ns');
    const id = field(request.body, 'id');
    const { journal, dead } = streamKeys(ctx, ns);
    const f = await readDead(ctx, ns, id);
    await ctx.audit.run(
      {
        ...actor(request),
        action: 'write-behind.retry',
        target: `${ns} ${id}`,
        detail: showBytes(f.get('k') ?? Buffer.alloc(0)),
      },
      async () => {
        const fields = ['k', 'o', 'v', 't'].flatMap((name) => [name, f.get(name) ?? '']);
        await ctx.redis.run('xadd', (c) => c.xadd(journal, '*', ...fields));
        await ctx.redis.run('xdel', (c) => c.xdel(dead, id));
      },
    );
    return reply.redirect(`/write-behind?ns=${encodeURIComponent(ns)}`, 303);
  });

  app.post('/write-behind/dead/drop', { config: { access: 'write' } }, async (request, reply) => {
    const ns = field(request.body, 'ns');
    const id = field(request.body, 'id');
    const { dead } = streamKeys(ctx, ns);
    const f = await readDead(ctx, ns, id);
    await ctx.audit.run(
      {
        ...actor(request),
        action: 'write-behind.drop',
        target: `${ns} ${id}`,
        detail: showBytes(f.get('k') ?? Buffer.alloc(0)),
      },
      () => ctx.redis.run('xdel', (c) => c.xdel(dead, id)),
    );
    return reply.redirect(`/write-behind?ns=${encodeURIComponent(ns)}`, 303);
  });
}
