/**
 * The markup of the windows view: a series' shape and writers, its charts
 * (figures the vendored uPlot fills from `/api/windows`), the recent windows
 * and one window's dimension breakdowns. Dimension values and partition names
 * are attacker data like any Redis content: they only reach the page escaped.
 */
import type { WindowResult } from '@stratacache/streams';
import { html, type SafeHtml, showBytes } from '../html.js';
import { duration, note, when } from '../layout.js';
import type { FoundSeries, SeriesShape } from '../windows-read.js';

/** Rows of a breakdown shown per dimension. */
const BREAKDOWN_ROWS = 100;
/** Windows listed in the table (the charts show every window read). */
const TABLE_ROWS = 20;

/** Redis text with controls and bidi overrides made visible (escaped later by `html`). */
function text(value: string): string {
  return showBytes(Buffer.from(value));
}

/** A number as text: integers as they are, fractions to six significant digits, `-` for none. */
export function num(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6)));
}

/** The query string of a series page. */
export function seriesQuery(series: FoundSeries, extra: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams({ ns: series.namespace, name: series.name });
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) params.set(k, String(v));
  return params.toString();
}

/** The fields with sum/min/max in any of `windows`, sorted. */
export function fieldsOf(windows: readonly WindowResult[]): string[] {
  const names = new Set<string>();
  for (const w of windows) for (const f of Object.keys(w.fields)) names.add(f);
  return [...names].sort();
}

/** Final, open, or unknown (no grace configured). */
function finality(shape: SeriesShape, w: WindowResult): string {
  if (shape.graceMs === undefined || shape.sizeMs === undefined) return '?';
  return w.final ? 'final' : 'open';
}

/** The series' shape and its writers. */
export function renderShape(shape: SeriesShape): SafeHtml {
  const size =
    shape.sizeMs === undefined
      ? 'unknown (one window so far; set ADMIN_WINDOW_SERIES)'
      : `${duration(shape.sizeMs)}${shape.sizeFrom === 'inferred' ? ' (inferred from the window starts: tumbling windows)' : ' (ADMIN_WINDOW_SERIES)'}`;
  return html`<table class="kv" data-testid="series-shape">
<tr><th>namespace</th><td><code>${shape.namespace}</code></td></tr>
<tr><th>window size</th><td>${size}</td></tr>
<tr><th>grace</th><td>${shape.graceMs === undefined ? html`<span class="muted">not known here (set ADMIN_WINDOW_SERIES=${shape.name}=size/grace to see which windows are final)</span>` : duration(shape.graceMs)}</td></tr>
<tr><th>windows kept</th><td>${shape.windows}</td></tr>
<tr><th>newest window</th><td>${when(shape.newest)}</td></tr>
<tr><th>lowest watermark</th><td>${when(shape.minWatermark)}</td></tr>
<tr><th>distinct counts</th><td>${shape.distinct.length === 0 ? 'none' : shape.distinct.join(', ')}${shape.distinctComplete ? '' : html` <span class="muted">(the scan budget ran out: there may be more)</span>`}</td></tr>
</table>
<h3>Writers (partitions)</h3>
${
  shape.partitions.length === 0
    ? html`<p>No partition has applied a batch yet.</p>`
    : html`<table class="grid" data-testid="partitions"><thead><tr><th>partition</th><th>last offset</th><th>watermark</th><th>last applied</th></tr></thead><tbody>${shape.partitions.map(
        (p) =>
          html`<tr><td><code>${text(p.partition)}</code></td><td><code>${p.offset === undefined ? '-' : text(p.offset)}</code></td><td class="time">${when(p.watermark)}</td><td class="time">${when(p.appliedAt)}</td></tr>`,
      )}</tbody></table>`
}`;
}

/** The chart figures of a series, for `field` (or only the count when the series has no numeric field). */
export function renderCharts(series: FoundSeries, count: number, field: string | undefined): SafeHtml {
  const src = `/api/windows?${seriesQuery(series, { count })}`;
  return html`<div class="charts" data-testid="window-charts">
<figure class="chart" data-src="${src}" data-refresh="15000" data-series="count" data-label="records"><figcaption>Records per window</figcaption></figure>
${
  field
    ? html`<figure class="chart" data-src="${src}" data-refresh="15000" data-series="sum:${field}" data-label="sum"><figcaption>Sum of ${field}</figcaption></figure>
<figure class="chart" data-src="${src}" data-refresh="15000" data-series="min:${field}" data-label="min" data-second="max:${field}" data-second-label="max"><figcaption>Min and max of ${field}</figcaption></figure>`
    : ''
}
</div>`;
}

/** The recent windows, newest first. */
export function renderWindowTable(
  series: FoundSeries,
  shape: SeriesShape,
  windows: readonly WindowResult[],
  selected: number | undefined,
): SafeHtml {
  const fields = fieldsOf(windows);
  const shown = [...windows].reverse().slice(0, TABLE_ROWS);
  return html`<table class="grid" data-testid="windows"><thead><tr><th>start</th><th>end</th><th>records</th>${fields.map(
    (f) => html`<th>${f}: sum</th><th>min</th><th>max</th>`,
  )}${shape.distinct.map((f) => html`<th>~distinct ${f}</th>`)}<th>state</th><th></th></tr></thead>
<tbody>${shown.map(
    (
      w,
    ) => html`<tr${w.start === selected ? html` class="selected"` : ''}><td class="time">${when(w.start)}</td><td class="time">${shape.sizeMs === undefined ? '-' : when(w.end)}</td><td>${w.count}</td>${fields.map(
      (f) => html`<td>${num(w.fields[f]?.sum)}</td><td>${num(w.fields[f]?.min)}</td><td>${num(w.fields[f]?.max)}</td>`,
    )}${shape.distinct.map((f) => html`<td>${num(w.distinct[f])}</td>`)}<td>${finality(shape, w)}</td>
<td><a href="/windows?${seriesQuery(series, { start: w.start })}#breakdown">breakdown</a></td></tr>`,
  )}</tbody></table>
${windows.length > shown.length ? note(`The newest ${shown.length} of the ${windows.length} windows charted.`) : ''}`;
}

/** One window's dimension breakdowns, a table per dimension, largest count first. */
export function renderBreakdown(window: WindowResult | undefined, start: number | undefined): SafeHtml {
  if (!window) {
    return html`<p id="breakdown">${start === undefined ? 'No window yet.' : `No window starts at ${when(start)} (expired, or never written).`}</p>`;
  }
  const dimensions = Object.keys(window.dimensions).sort();
  const heading = html`<h3 id="breakdown">Breakdown of the window from ${when(window.start)}</h3>`;
  if (dimensions.length === 0) return html`${heading}<p>The series has no dimension.</p>`;
  return html`${heading}${dimensions.map((dimension) => {
    const cells = Object.entries(window.dimensions[dimension] ?? {}).sort((a, b) => b[1].count - a[1].count);
    const fields = [...new Set(cells.flatMap(([, c]) => Object.keys(c.fields)))].sort();
    return html`<h4>by ${dimension}</h4>
<table class="grid" data-testid="breakdown-${dimension}"><thead><tr><th>${dimension}</th><th>records</th>${fields.map(
      (f) => html`<th>${f}: sum</th><th>min</th><th>max</th>`,
    )}</tr></thead><tbody>${cells
      .slice(0, BREAKDOWN_ROWS)
      .map(
        ([value, cell]) =>
          html`<tr><td>${value === '' ? html`<span class="muted">(none)</span>` : html`<code>${text(value)}</code>`}</td><td>${cell.count}</td>${fields.map(
            (f) =>
              html`<td>${num(cell.fields[f]?.sum)}</td><td>${num(cell.fields[f]?.min)}</td><td>${num(cell.fields[f]?.max)}</td>`,
          )}</tr>`,
      )}</tbody></table>
${cells.length > BREAKDOWN_ROWS ? note(`The ${BREAKDOWN_ROWS} largest of ${cells.length} values shown.`) : ''}`;
  })}`;
}
