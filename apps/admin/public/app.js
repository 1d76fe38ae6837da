/*
 * The console's only script of its own (served from this origin; the CSP
 * allows no inline script). It draws the charts with the vendored uPlot (the
 * overview's from /api/series, a window series' from /api/windows), follows
 * the live invalidation feed over SSE, and redraws a series' charts when its
 * live window updates arrive over SSE.
 * Data from Redis is only ever written with textContent, never as markup.
 */
(() => {
  const REFRESH_MS = 5000;
  /** A busy series publishes many updates a second: the page reads its windows again at most this often. */
  const UPDATE_EVERY_MS = 2000;

  const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

  /** The unit index of `n` bytes (1024-based). */
  function unitOf(n) {
    let i = 0;
    while (Math.abs(n) >= 1024 ** (i + 1) && i < UNITS.length - 1) i++;
    return i;
  }

  function formatBytes(n, unit = unitOf(n), decimals = unit === 0 ? 0 : 1) {
    if (n == null) return '';
    return `${(n / 1024 ** unit).toFixed(decimals)} ${UNITS[unit]}`;
  }

  /** Decimals that tell ticks `step` apart (ticks 2.31 MiB and 2.32 MiB must not both read 2.3 MiB). */
  function decimalsFor(step) {
    if (!(step > 0)) return 0;
    for (let d = 0; d < 4; d++) {
      const scaled = step * 10 ** d;
      if (Math.abs(Math.round(scaled) - scaled) < 1e-6 * Math.max(1, scaled)) return d;
    }
    return 4;
  }

  function chartOptions(figure, width) {
    const percent = figure.dataset.percent === '1';
    const bytes = figure.dataset.bytes === '1';
    const value = (_u, v) =>
      v == null
        ? ''
        : percent
          ? `${(v * 100).toFixed(0)}%`
          : bytes
            ? formatBytes(v)
            : String(Math.round(v * 100) / 100);
    // Axis labels: one unit and one precision for all ticks of an axis.
    const axis = (_u, ticks) => {
      if (ticks.length === 0) return [];
      const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 0;
      if (percent) return ticks.map((t) => `${(t * 100).toFixed(decimalsFor(step * 100))}%`);
      if (bytes) {
        const unit = unitOf(Math.max(...ticks.map(Math.abs)));
        // Byte ticks are round in bytes, not in the unit: enough decimals to tell them apart.
        const scaled = step / 1024 ** unit;
        const decimals = scaled > 0 ? Math.min(3, Math.max(0, Math.ceil(-Math.log10(scaled)))) : 0;
        return ticks.map((t) => formatBytes(t, unit, decimals));
      }
      return ticks.map((t) => t.toFixed(decimalsFor(step)));
    };
    const series = [{}, { label: figure.dataset.label, stroke: '#2563eb', width: 2, value }];
    if (figure.dataset.second)
      series.push({ label: figure.dataset.secondLabel, stroke: '#dc2626', width: 1, dash: [6, 4], value });
    return {
      width,
      height: 180,
      // Room on the right for the last time label.
      padding: [8, 24, 0, 0],
      series,
      scales: percent ? { y: { range: [0, 1] } } : {},
      axes: [{}, { values: axis, size: 84 }],
      legend: { show: true },
    };
  }

  /** Redraw functions by data source, so a live update can redraw the charts it concerns. */
  const redraws = new Map();

  /** Draws the figures that read `src`, then redraws them every `every` ms. */
  async function drawGroup(src, figures, every) {
    const charts = new Map();
    const refresh = async () => {
      let data;
      try {
        const response = await fetch(src, {
          credentials: 'same-origin',
          headers: { accept: 'application/json' },
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        data = await response.json();
      } catch (error) {
        for (const figure of figures) figure.dataset.error = String(error);
        return;
      }
      for (const figure of figures) {
        const columns = [data.t, data[figure.dataset.series] || data.t.map(() => null)];
        if (figure.dataset.second) columns.push(data[figure.dataset.second] || data.t.map(() => null));
        let chart = charts.get(figure);
        if (chart) chart.setData(columns);
        else {
          const width = Math.max(280, Math.min(560, figure.clientWidth || 480));
          chart = new uPlot(chartOptions(figure, width), columns, figure);
          charts.set(figure, chart);
        }
        delete figure.dataset.error;
        figure.dataset.points = String(data.t.length);
        figure.dataset.rendered = '1';
      }
    };
    redraws.set(src, refresh);
    await refresh();
    setInterval(refresh, every);
  }

  function drawCharts() {
    const figures = document.querySelectorAll('figure.chart');
    if (figures.length === 0 || typeof uPlot === 'undefined') return;
    const groups = new Map();
    for (const figure of figures) {
      const src = figure.dataset.src || '/api/series';
      if (!groups.has(src)) groups.set(src, []);
      groups.get(src).push(figure);
    }
    for (const [src, list] of groups) drawGroup(src, list, Number(list[0].dataset.refresh) || REFRESH_MS);
  }

  /** Live window updates: redraw the charts and reload the tables (at most every 2 s) when the aggregator publishes one. */
  function followWindows() {
    const status = document.getElementById('window-live');
    if (!status?.dataset.events) return;
    const source = new EventSource(status.dataset.events);
    let pending;
    let updates = 0;
    source.onopen = () => {
      status.textContent = 'subscribed, waiting for updates';
    };
    source.onerror = () => {
      status.textContent = 'reconnecting…';
    };
    source.addEventListener('window', (message) => {
      let update;
      try {
        update = JSON.parse(message.data);
      } catch {
        return;
      }
      updates++;
      status.textContent = `${updates} update${updates === 1 ? '' : 's'}, the last to the window from ${new Date(update.start).toISOString()}${update.final ? ' (final)' : ''}`;
      status.dataset.updates = String(updates);
      if (pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        for (const redraw of redraws.values()) redraw();
        // The tables below the charts listen for this (hx-trigger="window-update from:body").
        document.body.dispatchEvent(new Event('window-update'));
      }, UPDATE_EVERY_MS);
    });
  }

  function followFeed() {
    const rows = document.getElementById('feed-rows');
    const status = document.getElementById('feed-status');
    if (!rows?.dataset.feed) return;
    const source = new EventSource(rows.dataset.feed);
    source.onopen = () => {
      if (status) status.textContent = 'live';
    };
    source.onerror = () => {
      if (status) status.textContent = 'reconnecting…';
    };
    source.addEventListener('invalidation', (message) => {
      let item;
      try {
        item = JSON.parse(message.data);
      } catch {
        return;
      }
      const tr = document.createElement('tr');
      const cell = (text) => {
        const td = document.createElement('td');
        if (text !== undefined) td.textContent = text;
        tr.appendChild(td);
        return td;
      };
      cell(new Date(item.heardAt).toISOString()).className = 'time';
      cell(item.namespace);
      cell(item.op);
      // As the server renders them: each item as code, space-separated.
      const items = cell();
      for (const text of item.items || []) {
        const code = document.createElement('code');
        code.textContent = text;
        items.append(code, ' ');
      }
      cell(item.local ? 'this console' : item.from);
      rows.insertBefore(tr, rows.firstChild);
      while (rows.children.length > 200) rows.removeChild(rows.lastChild);
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    drawCharts();
    followFeed();
    followWindows();
  });
})();
