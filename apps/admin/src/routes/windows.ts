/**
 * Windowed aggregates of `@stratacache/streams`: the series found under the
 * prefix (SCAN of every master, never KEYS), and per series its shape and
 * writers, charts of the recent windows (records, and sum, min and max of a
 * field) drawn by the vendored uPlot from `/api/windows`, the recent windows
 * and one window's dimension breakdowns. `/windows/events` streams the
 * series' pub/sub updates over Server-Sent Events; the charts redraw and the
 * tables are read again (`/windows/tables`, swapped in by htmx).
 * Read only: nothing here writes.
 */
import type { WindowResult, WindowUpdate } from '@stratacache/streams';
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { html, type SafeHtml } from '../html.js';
import { errorBox, note, page, when } from '../layout.js';
import { field, pageContext, sendPage } from '../respond.js';
import { HttpError } from '../security.js';
import { PAGE_BUDGET_MS, within } from '../timeout.js';
import {
  fieldsOf,
  renderBreakdown,
  renderCharts,
  renderShape,
  renderWindowTable,
  seriesQuery,
} from '../views/windows-view.js';
import {
  discoverSeries,
  type FoundSeries,
  readerFor,
  readShape,
  SERIES_NAME,
  type SeriesShape,
} from '../windows-read.js';

const NAMESPACE = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})*$/;
/** Windows charted by default, and at most. */
const DEFAULT_COUNT = 60;
const MAX_COUNT = 500;
/** Most live streams open at once (each holds a connection). */
const MAX_STREAMS = 20;

/** The series named by a request, validated; undefined when none is named. */
function seriesOf(query: unknown): FoundSeries | undefined {
  const namespace = field(query, 'ns');
  const name = field(query, 'name');
  if (!namespace && !name) return undefined;
  if (!NAMESPACE.test(namespace)) throw new HttpError(400, 'ns must be a key namespace (streams by default)');
  if (!SERIES_NAME.test(name)) throw new HttpError(400, 'name must be a series name: letters, digits, _ or -');
  return { namespace, name };
}

function countOf(query: unknown): number {
  const text = field(query, 'count');
  if (text === '') return DEFAULT_COUNT;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_COUNT) throw new HttpError(400, `count must be 1 to ${MAX_COUNT}`);
  return n;
}

function startOf(query: unknown): number | undefined {
  const text = field(query, 'start');
  if (text === '') return undefined;
  if (!/^\d{1,16}$/.test(text)) throw new HttpError(400, 'start must be a window start in ms');
  return Number(text);
}

/** The list of series, each with its size of index and newest window. */
async function seriesList(ctx: AdminContext, current: FoundSeries | undefined): Promise<SafeHtml> {
  const { series, complete } = await within(discoverSeries(ctx), PAGE_BUDGET_MS * 2, 'series discovery');
  if (series.length === 0) {
    return html`<p data-testid="no-series">No window series found under <code>${ctx.redis.options.prefix}</code>.</p>
${complete ? '' : note('The scan budget ran out: there may be series further on.')}`;
  }
  const shown = series.slice(0, 100);
  const stats = await within(
    ctx.redis.run('series', (c) =>
      Promise.all(
        shown.map(async (s) => {
          const index = readerFor(ctx.redis, s).keysOf(s.name).index;
          const [count, newest] = await Promise.all([c.zcard(index), c.zrevrange(index, 0, 0)]);
          return { count, newest: newest[0] === undefined ? undefined : Number(newest[0]) };
        }),
      ),
    ),
    PAGE_BUDGET_MS,
    'series indexes',
  );
  return html`<table class="grid" data-testid="series"><thead><tr><th>namespace</th><th>series</th><th>windows kept</th><th>newest window</th></tr></thead>
<tbody>${shown.map((s, i) => {
    const active = current?.namespace === s.namespace && current.name === s.name;
    return html`<tr${active ? html` class="selected"` : ''}><td><code>${s.namespace}</code></td><td><a href="/windows?${seriesQuery(s)}">${s.name}</a></td><td>${stats[i]?.count ?? '-'}</td><td class="time">${when(stats[i]?.newest)}</td></tr>`;
  })}</tbody></table>
${series.length > shown.length ? note(`The first ${shown.length} of ${series.length} series shown.`) : ''}
${complete ? '' : note('The scan budget ran out: there may be series further on.')}`;
}

/** What a series page shows, read once. */
interface Detail {
  count: number;
  start: number | undefined;
  shape: SeriesShape;
  windows: WindowResult[];
  /** The window whose breakdown is shown: the one asked for, else the newest. */
  breakdown: WindowResult | undefined;
}

async function readDetail(ctx: AdminContext, series: FoundSeries, query: unknown): Promise<Detail> {
  const count = countOf(query);
  const start = startOf(query);
  const shape = await within(readShape(ctx, series), PAGE_BUDGET_MS, 'series');
  const reader = readerFor(ctx.redis, series, shape);
  const [windows, chosen] = await within(
    Promise.all([
      reader.recent(series.name, { count }),
      start === undefined ? Promise.resolve(undefined) : reader.window(series.name, start),
    ]),
    PAGE_BUDGET_MS,
    'windows',
  );
  return { count, start, shape, windows, breakdown: start === undefined ? windows.at(-1) : chosen };
}

/** The part of a series page that is read again on each live update: shape, writers, windows, breakdown. */
function renderTables(series: FoundSeries, d: Detail): SafeHtml {
  return html`${renderShape(d.shape)}
<h3>Recent windows</h3>
${renderWindowTable(series, d.shape, d.windows, d.breakdown?.start)}
${renderBreakdown(d.breakdown, d.start)}`;
}

async function seriesDetail(ctx: AdminContext, series: FoundSeries, query: unknown): Promise<SafeHtml> {
  const d = await readDetail(ctx, series, query);
  if (d.shape.windows === 0 && d.shape.partitions.length === 0) {
    return html`<p data-testid="no-windows">No windows of <code>${series.name}</code> in <code>${series.namespace}</code> (expired, or never written).</p>`;
  }
  const fields = fieldsOf(d.windows);
  const wanted = field(query, 'field');
  const selected = fields.includes(wanted) ? wanted : fields[0];
  const tables = `/windows/tables?${seriesQuery(series, { count: d.count, start: d.start })}`;
  return html`<p>Live: <span id="window-live" data-testid="window-live" data-events="/windows/events?${seriesQuery(series)}">connecting…</span>
${fields.length > 1 ? html` · Field: ${fields.map((f) => (f === selected ? html`<strong>${f}</strong> ` : html`<a href="/windows?${seriesQuery(series, { field: f, count: d.count })}">${f}</a> `))}` : ''}</p>
${renderCharts(series, d.count, selected)}
${note(`The last ${d.count} windows, oldest left; each point is a window's start (change with &count=, at most ${MAX_COUNT}). Charts and tables are read again when the aggregator publishes updates (at most every 2 s), the charts also every 15 s.`)}
<div id="window-tables" hx-get="${tables}" hx-trigger="window-update from:body" hx-swap="innerHTML">${renderTables(series, d)}</div>`;
}

export function registerWindowRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/windows', async (request, reply) => {
    const series = seriesOf(request.query);
    const pc = pageContext(request, reply);
    let list: SafeHtml;
    try {
      list = await seriesList(ctx, series);
    } catch (error) {
      list = errorBox('The window series could not be listed', error);
    }
    let detail: SafeHtml = html``;
    if (series) {
      try {
        detail = html`<h2>${series.name}</h2>${await seriesDetail(ctx, series, request.query)}`;
      } catch (error) {
        if (error instanceof HttpError) throw error;
        detail = errorBox('The windows could not be read', error);
      }
    }
    return sendPage(
      reply,
      page(
        series ? `Windows: ${series.name}` : 'Windows',
        '/windows',
        pc,
        html`${note(html`Windowed aggregates written by <code>@stratacache/streams</code>, found by SCAN (every master, never KEYS) of the series' indexes under the prefix, and read through its reader.`)}
${list}${detail}`,
      ),
    );
  });

  // The tables of a series page again, as a fragment (htmx swaps it in on a live update).
  app.get('/windows/tables', async (request, reply) => {
    const series = seriesOf(request.query);
    if (!series) throw new HttpError(400, 'ns and name are required');
    return sendPage(reply, renderTables(series, await readDetail(ctx, series, request.query)));
  });

  // The charts' data: one array per column, aligned on t (window starts in seconds, as uPlot wants).
  app.get('/api/windows', async (request) => {
    const series = seriesOf(request.query);
    if (!series) throw new HttpError(400, 'ns and name are required');
    // The charts need no distinct counts: no SCAN for their fields on every redraw.
    const shape = await within(readShape(ctx, series, { distinct: false }), PAGE_BUDGET_MS, 'series');
    const windows = await within(
      readerFor(ctx.redis, series, shape).recent(series.name, { count: countOf(request.query) }),
      PAGE_BUDGET_MS,
      'windows',
    );
    const columns: Record<string, (number | null)[]> = { t: [], count: [] };
    const fields = fieldsOf(windows);
    for (const f of fields) for (const stat of ['sum', 'min', 'max']) columns[`${stat}:${f}`] = [];
    const finite = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? null : n);
    for (const w of windows) {
      columns.t?.push(w.start / 1000);
      columns.count?.push(w.count);
      for (const f of fields) {
        columns[`sum:${f}`]?.push(finite(w.fields[f]?.sum));
        columns[`min:${f}`]?.push(finite(w.fields[f]?.min));
        columns[`max:${f}`]?.push(finite(w.fields[f]?.max));
      }
    }
    return columns;
  });

  app.get('/windows/events', async (request, reply) => {
    const series = seriesOf(request.query);
    if (!series) throw new HttpError(400, 'ns and name are required');
    if (ctx.windows.open >= MAX_STREAMS) throw new HttpError(503, 'Too many live window streams are open; close one.');
    const res = reply.raw;
    let streaming = false;
    let stop: (() => void) | undefined;
    let ping: NodeJS.Timeout | undefined;
    let closed = false;
    request.raw.on('close', () => {
      closed = true;
      clearInterval(ping);
      stop?.();
    });
    const send = (update: WindowUpdate) => {
      if (streaming)
        res.write(`event: window\ndata: ${JSON.stringify({ start: update.start, final: update.final })}\n\n`);
    };
    // Subscribed before the answer starts: a Redis that cannot subscribe gets an error response, not an empty stream.
    const listening = ctx.windows.listen(series, send);
    try {
      stop = await within(listening, PAGE_BUDGET_MS, 'subscribe');
    } catch (error) {
      // A subscribe that answers after the deadline is undone then.
      listening.then(
        (late) => late(),
        () => {},
      );
      throw error;
    }
    reply.hijack();
    if (closed) {
      stop();
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    res.write(': subscribed\n\n');
    streaming = true;
    ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    ping.unref();
  });
}
