/**
 * The overview: is Redis up and how full, the breaker and the bus, alerts
 * from the metrics package's thresholds, and charts (ops/s, hit ratio,
 * memory against maxmemory, evictions) from the sampler, drawn by the
 * vendored uPlot from `/api/series`.
 */
import type { HealthReport } from '@stratacache/core-client';
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { html } from '../html.js';
import { bytes, errorBox, note, page, when } from '../layout.js';
import { pageContext, sendPage } from '../respond.js';
import { PAGE_BUDGET_MS, within } from '../timeout.js';

function percent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined || !Number.isFinite(ratio) ? '-' : `${(ratio * 100).toFixed(1)}%`;
}

function nodesTable(report: HealthReport) {
  return html`<table class="grid">
<thead><tr><th>node</th><th>role</th><th>version</th><th>memory</th><th>maxmemory</th><th>policy</th><th>clients</th><th>hit rate (since start)</th><th>evicted keys</th></tr></thead>
<tbody>${report.nodes.map(
    (n) => html`<tr><td>${n.node}</td><td>${n.role}</td><td>${n.version}</td>
<td>${bytes(n.usedMemory)}${
      n.memoryRatio === null
        ? ''
        : html` <meter min="0" max="1" low="0.75" high="0.9" optimum="0" value="${n.memoryRatio.toFixed(3)}">${percent(n.memoryRatio)}</meter> ${percent(n.memoryRatio)}`
    }</td>
<td>${n.maxMemory > 0 ? bytes(n.maxMemory) : 'none'}</td><td>${n.maxMemoryPolicy}</td><td>${n.connectedClients}</td>
<td>${percent(n.hitRate)}</td><td>${n.evictedKeys}</td></tr>`,
  )}</tbody></table>`;
}

export function registerOverviewRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/', async (request, reply) => {
    const { redis, bus } = ctx;
    const [health, ready] = await Promise.all([
      within(redis.health(), PAGE_BUDGET_MS, 'Redis health').catch(
        (error: Error): HealthReport => ({
          ok: false,
          latencyMs: null,
          mode: redis.mode,
          nodes: [],
          warnings: [],
          unreadable: [],
          error: error.message,
        }),
      ),
      within(ctx.health.readiness(), PAGE_BUDGET_MS, 'readiness').catch(() => undefined),
    ]);
    const firing = ctx.alerts.firing();
    const breaker = redis.breaker?.state ?? 'off';
    const body = html`
<section class="cards">
  <div class="card ${health.ok ? 'ok' : 'bad'}"><h2>Redis</h2><p class="big">${health.ok ? 'up' : 'down'}</p>
    <p>${redis.mode}${health.latencyMs === null ? '' : `, PING ${health.latencyMs.toFixed(1)} ms`}</p></div>
  <div class="card ${breaker === 'open' ? 'bad' : breaker === 'half-open' ? 'warn' : 'ok'}"><h2>Circuit breaker</h2><p class="big">${breaker}</p>
    <p>of the console's own client</p></div>
  <div class="card ${bus.connected ? 'ok' : 'bad'}"><h2>Invalidation bus</h2><p class="big">${bus.connected ? 'connected' : 'disconnected'}</p>
    <p>${bus.pending} publishes waiting for a retry</p></div>
  <div class="card ${firing.length > 0 ? 'bad' : 'ok'}"><h2>Alerts</h2><p class="big">${firing.length > 0 ? `${firing.length} firing` : 'none firing'}</p>
    <p>${firing.join(', ')}</p></div>
</section>
${health.ok ? '' : errorBox('Redis health could not be read', new Error(health.error ?? 'unknown'))}
${health.warnings.length > 0 ? html`<ul class="warnings">${health.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}
${health.nodes.length > 0 ? nodesTable(health) : ''}
${redis.mode === 'cluster' ? note('Cluster: every figure and chart sums the masters; replicas are not shown.') : ''}
<h2>Over time</h2>
${note(`Sampled from INFO every ${Math.round(ctx.options.sampleIntervalMs / 100) / 10} s since this console started; hit ratio and evictions are per interval.`)}
<div class="charts">
  <figure class="chart" data-series="opsPerSec" data-label="ops/s"><figcaption>Operations per second</figcaption></figure>
  <figure class="chart" data-series="hitRatio" data-label="hit ratio" data-percent="1"><figcaption>Keyspace hit ratio</figcaption></figure>
  <figure class="chart" data-series="usedMemory" data-label="used" data-second="maxMemory" data-second-label="maxmemory" data-bytes="1"><figcaption>Memory and maxmemory</figcaption></figure>
  <figure class="chart" data-series="evictions" data-label="evicted keys"><figcaption>Evictions per interval</figcaption></figure>
</div>
<h2>Readiness</h2>
${
  ready
    ? html`<table class="grid"><thead><tr><th>check</th><th>ok</th><th>latency</th><th>detail</th></tr></thead><tbody>${Object.entries(
        ready.checks,
      ).map(
        ([name, c]) =>
          html`<tr><td>${name}</td><td class="${c.ok ? 'ok' : 'bad'}">${c.ok ? 'yes' : 'no'}</td><td>${c.latencyMs.toFixed(1)} ms</td><td>${
            c.error ??
            Object.entries(c.detail ?? {})
              .map(([k, v]) => `${k}: ${typeof v === 'number' ? v.toFixed(1) : String(v)}`)
              .join(', ')
          }</td></tr>`,
      )}</tbody></table>`
    : errorBox('Readiness could not be evaluated', new Error('timed out'))
}
<h2>Alert history</h2>
${note('From @stratacache/metrics createAlerts: Redis memory over 90% of maxmemory, evictions over 1000/s, an open breaker, a disconnected bus (each with hysteresis).')}
${
  ctx.alertLog.length === 0
    ? html`<p>No alert has fired or resolved since the console started.</p>`
    : html`<table class="grid"><thead><tr><th>when</th><th>alert</th><th>state</th><th>value</th><th>threshold</th></tr></thead><tbody>${ctx.alertLog.map(
        (a) =>
          html`<tr><td>${when(a.at)}</td><td>${a.alert}</td><td>${a.state}</td><td>${a.value}</td><td>${a.threshold}</td></tr>`,
      )}</tbody></table>`
}`;
    return sendPage(reply, page('Overview', '/', pageContext(request, reply), body));
  });

  app.get('/api/series', async () => {
    const series = ctx.sampler.series();
    return { ...series, lastError: ctx.sampler.lastError?.message ?? null };
  });
}
