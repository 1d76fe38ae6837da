/**
 * Tags of a cache namespace, as `@stratacache/invalidation` keeps them in the
 * child namespace `{namespace}.inv`: eager tag sets (sorted sets of member
 * keys scored by expiry, so live members are those scored after now) and the
 * last delete / expire time of each tag. Lazy namespaces keep no member sets:
 * their tags are read from the headers of a sample of entries. Invalidating
 * a tag goes through the invalidator and the bus (delete: misses everywhere;
 * expire: stale, still served within grace), after a confirmation, audited.
 */
import { escapeGlob } from '@stratacache/core-client';
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { decodeEntryHeader, ENTRY_KIND_TOMBSTONE, ENTRY_MAGIC } from '../entry-header.js';
import { html, type SafeHtml, showBytes } from '../html.js';
import { invalidatorFor } from '../invalidators.js';
import { decodeKeyPart } from '../key-id.js';
import { csrfField, errorBox, note, page, when } from '../layout.js';
import { actor, field, pageContext, sendPage } from '../respond.js';
import { scanBounded } from '../scan.js';
import { HttpError } from '../security.js';
import { PAGE_BUDGET_MS, within } from '../timeout.js';

const NAME = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})*$/;
/** Live members of one eager set whose keys are checked for an entry. */
const MEMBERS_CHECKED = 500;
/** Members checked per page, over every tag. */
const CHECK_BUDGET = 5000;
/** Entries whose headers are read to find the tags of a lazy namespace. */
const SAMPLE = 2000;

interface TagRow {
  tag: string;
  /** Live members of the eager set (undefined: no set). */
  live?: number;
  /** Members in the set, live or expired. */
  total?: number;
  /** Of the live members checked, those whose key still exists. */
  existing?: number;
  /** False when the set has more live members than were checked. */
  checkedAll?: boolean;
  deletedAt?: number;
  expiredAt?: number;
  /** Entries in the sample carrying it. */
  sampled?: number;
}

async function readTags(ctx: AdminContext, ns: string): Promise<{ rows: TagRow[]; notes: string[] }> {
  const redis = ctx.redis;
  const meta = redis.keys(ns).child('inv');
  const budget = ctx.options.scanBudget;
  const rows = new Map<string, TagRow>();
  const row = (tag: string) => {
    let r = rows.get(tag);
    if (!r) {
      r = { tag };
      rows.set(tag, r);
    }
    return r;
  };
  const notes: string[] = [];
  const setHead = `${meta.prefix}:${meta.namespace}:tag:`;
  const sets = await scanBounded(redis, meta.under('tag'), { budget, type: 'zset' });
  const now = Date.now();
  let checksLeft = CHECK_BUDGET;
  for (const key of sets.keys) {
    // A deleted or evicted member stays listed until the tag's garbage collection: count the members
    // that still hold an entry (not gone, not a delete's tombstone), up to MEMBERS_CHECKED per tag and
    // CHECK_BUDGET per page; beyond that only the unexpired scores are counted.
    const checkable = Math.min(MEMBERS_CHECKED, checksLeft);
    const [total, live, members] = await redis.run('zcount', (c) =>
      Promise.all([
        c.zcard(key),
        c.zcount(key, `(${now}`, '+inf'),
        checkable > 0 ? c.zrangebyscore(key, `(${now}`, '+inf', 'LIMIT', 0, checkable) : Promise.resolve([]),
      ]),
    );
    checksLeft -= members.length;
    const existing = members.length === 0 ? 0 : await countEntries(redis, members);
    Object.assign(row(decodeKeyPart(key.slice(setHead.length))), {
      total,
      live,
      existing: members.length === 0 && live > 0 ? undefined : existing,
      checkedAll: members.length === live,
    });
  }
  const timeHead = `${meta.prefix}:${meta.namespace}:tagtime:`;
  const times = await scanBounded(redis, meta.under('tagtime'), { budget });
  const values = times.keys.length > 0 ? await redis.getMany(times.keys) : [];
  times.keys.forEach((key, i) => {
    const [kind, ...rest] = key.slice(timeHead.length).split(':');
    const at = Number(values[i]?.toString());
    const r = row(decodeKeyPart(rest.join(':')));
    if (kind === 'deleted') r.deletedAt = at;
    else if (kind === 'expired') r.expiredAt = at;
  });
  const entries = await scanBounded(redis, redis.keys(ns).under('e'), { budget, limit: SAMPLE });
  if (entries.keys.length > 0) {
    // The header and the tags only: a tag list longer than 4 KiB is not read (and not counted).
    const heads = await redis.run('getrange', async (c) => {
      const p = c.pipeline();
      for (const key of entries.keys) p.getrangeBuffer(key, 0, 4095);
      return (await p.exec()) ?? [];
    });
    for (const [, value] of heads) {
      const header = Buffer.isBuffer(value) ? decodeEntryHeader(value) : null;
      for (const tag of header?.tags ?? []) {
        const r = row(tag);
        r.sampled = (r.sampled ?? 0) + 1;
      }
    }
    notes.push(
      `Tags read from the headers of ${entries.keys.length} ${entries.keys.length === 1 ? 'entry' : 'entries'}${entries.complete ? '' : ' (a sample: the namespace has more)'}.`,
    );
  }
  if (!sets.complete || !times.complete) notes.push('The scan budget ran out: the list may be incomplete.');
  if (redis.mode === 'cluster')
    notes.push('Cluster: tags are lazy (no member sets); counts come from the entry sample.');
  return { rows: [...rows.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0)), notes };
}

/** How many of `keys` hold a Cache entry that is not a tombstone (first two bytes, pipelined). */
async function countEntries(redis: AdminContext['redis'], keys: string[]): Promise<number> {
  const heads = await redis.run('getrange', async (c) => {
    const p = c.pipeline();
    for (const key of keys) p.getrangeBuffer(key, 0, 1);
    return (await p.exec()) ?? [];
  });
  let count = 0;
  for (const [, head] of heads) {
    if (Buffer.isBuffer(head) && head.length === 2 && !(head[0] === ENTRY_MAGIC && head[1] === ENTRY_KIND_TOMBSTONE))
      count++;
  }
  return count;
}

/** An eager set's entries that exist, and what else it still lists (deleted or expired members, kept until garbage collection). */
function memberCell(r: TagRow): SafeHtml | string {
  if (r.live === undefined) return '-';
  const expired = (r.total ?? 0) - r.live;
  const expiredNote = expired > 0 ? html` <span class="muted">(and ${expired} expired)</span>` : '';
  // Not checked (the page's budget ran out): the unexpired scores are all that is known.
  if (r.existing === undefined) return html`${r.live} listed${expiredNote}`;
  const gone = r.checkedAll ? r.live - r.existing : 0;
  return html`${r.existing}${r.checkedAll ? '' : html` of the first ${MEMBERS_CHECKED} checked (${r.live} listed)`}${
    gone > 0 ? html` <span class="muted">(the set still lists ${gone} deleted)</span>` : ''
  }${expiredNote}`;
}

async function namespacesWithTags(ctx: AdminContext): Promise<{ names: string[]; complete: boolean }> {
  const prefix = ctx.redis.options.prefix;
  const found = await scanBounded(ctx.redis, `${escapeGlob(prefix)}:*.inv:tag*`, { budget: ctx.options.scanBudget });
  const names = new Set<string>();
  for (const key of found.keys) {
    const ns = key.slice(prefix.length + 1).split(':')[0] ?? '';
    if (ns.endsWith('.inv')) names.add(ns.slice(0, -4));
  }
  return { names: [...names].sort(), complete: found.complete };
}

function checkInput(ns: string, tag: string, mode?: string): void {
  if (!NAME.test(ns)) throw new HttpError(400, 'ns must be a key namespace');
  if (tag === '' || Buffer.byteLength(tag) > 1024) throw new HttpError(400, 'tag must be 1 to 1024 bytes');
  if (mode !== undefined && mode !== 'delete' && mode !== 'expire')
    throw new HttpError(400, 'mode must be delete or expire');
}

export function registerTagRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/tags', async (request, reply) => {
    const ns = field(request.query, 'ns').trim();
    if (ns && !NAME.test(ns)) throw new HttpError(400, 'ns must be a key namespace');
    const pc = pageContext(request, reply);
    let body: SafeHtml;
    try {
      if (!ns) {
        const { names, complete } = await within(namespacesWithTags(ctx), PAGE_BUDGET_MS * 2, 'tag discovery');
        body = html`${names.length === 0 ? html`<p>No namespace with tag data found.</p>` : html`<ul>${names.map((n) => html`<li><a href="/tags?ns=${n}">${n}</a></li>`)}</ul>`}
${complete ? '' : note('The scan budget ran out: there may be more.')}`;
      } else {
        const { rows, notes } = await within(readTags(ctx, ns), PAGE_BUDGET_MS * 2, 'tags');
        body = html`${notes.map((n) => note(n))}
<table class="grid" data-testid="tags"><thead><tr><th>tag</th><th>entries (eager set)</th><th>entries in sample</th><th>last deleted</th><th>last expired</th>${pc.role === 'admin' ? html`<th>invalidate</th>` : ''}</tr></thead>
<tbody>${rows.map(
          (r) => html`<tr><td><code>${showBytes(Buffer.from(r.tag))}</code></td>
<td>${memberCell(r)}</td>
<td>${r.sampled ?? '-'}</td><td>${when(r.deletedAt)}</td><td>${when(r.expiredAt)}</td>
${
  pc.role === 'admin'
    ? html`<td><a href="/tags/invalidate?ns=${ns}&amp;tag=${encodeURIComponent(r.tag)}&amp;mode=delete">delete</a> · <a href="/tags/invalidate?ns=${ns}&amp;tag=${encodeURIComponent(r.tag)}&amp;mode=expire">expire</a></td>`
    : ''
}</tr>`,
        )}</tbody></table>`;
      }
    } catch (error) {
      body = errorBox('The tags could not be read', error);
    }
    return sendPage(
      reply,
      page(
        ns ? `Tags of ${ns}` : 'Tags',
        '/tags',
        pc,
        html`<form class="filters" method="get" action="/tags"><label>Namespace <input name="ns" value="${ns}" placeholder="cache"></label><button type="submit">Show</button></form>${body}`,
      ),
    );
  });

  app.get('/tags/invalidate', { config: { access: 'write' } }, async (request, reply) => {
    const ns = field(request.query, 'ns');
    const tag = field(request.query, 'tag');
    const mode = field(request.query, 'mode') || 'delete';
    checkInput(ns, tag, mode);
    const pc = pageContext(request, reply);
    let count: SafeHtml;
    try {
      const inv = invalidatorFor(ctx, ns);
      const live = await within(
        ctx.redis.run('zcount', (c) => c.zcount(inv.tagSetKey(tag), `(${Date.now()}`, '+inf')),
        PAGE_BUDGET_MS,
        'tag count',
      );
      count = html`<p data-testid="tag-count">The eager tag set lists <strong>${live}</strong> live entries${ctx.redis.mode === 'cluster' ? ' (Cluster keeps none: lazy tags)' : ''}. Lazy entries carrying the tag are judged by its time and are not counted here.</p>`;
    } catch (error) {
      count = errorBox('The tag could not be counted', error);
    }
    const meaning =
      mode === 'delete'
        ? 'Every entry with this tag becomes a miss on every instance (eager members are unlinked).'
        : 'Every entry with this tag becomes stale on every instance; caches may still serve it within its grace period while they refresh.';
    return sendPage(
      reply,
      page(
        `${mode === 'delete' ? 'Delete' : 'Expire'} a tag`,
        '/tags',
        pc,
        html`<p>${mode === 'delete' ? 'Delete' : 'Expire'} tag <code>${showBytes(Buffer.from(tag))}</code> of <code>${ns}</code>? ${meaning}</p>${count}
<form method="post" action="/tags/invalidate">${csrfField(pc)}<input type="hidden" name="ns" value="${ns}"><input type="hidden" name="tag" value="${tag}"><input type="hidden" name="mode" value="${mode}">
<button type="submit" class="danger">${mode === 'delete' ? 'Delete' : 'Expire'} the tag</button> <a href="/tags?ns=${ns}">Cancel</a></form>`,
      ),
    );
  });

  app.post('/tags/invalidate', { config: { access: 'write' } }, async (request, reply) => {
    const ns = field(request.body, 'ns');
    const tag = field(request.body, 'tag');
    const mode = field(request.body, 'mode');
    checkInput(ns, tag, mode);
    const inv = invalidatorFor(ctx, ns);
    const removed = await ctx.audit.run({ ...actor(request), action: `tag.${mode}`, target: `${ns} ${tag}` }, () =>
      mode === 'delete' ? inv.deleteByTag([tag]) : inv.expireByTag([tag]),
    );
    const pc = pageContext(request, reply);
    return sendPage(
      reply,
      page(
        'Tag invalidated',
        '/tags',
        pc,
        html`<p data-testid="tag-done">Tag <code>${showBytes(Buffer.from(tag))}</code> of <code>${ns}</code> ${mode === 'delete' ? `deleted (${removed} eager members unlinked)` : 'expired'}; every instance was told over the bus.</p><p><a href="/tags?ns=${ns}">Back to the tags</a></p>`,
      ),
    );
  });
}
