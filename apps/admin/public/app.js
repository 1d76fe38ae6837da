/*
 * The console's only script of its own (served from this origin; the CSP
 * allows no inline script). It draws the overview's charts with the vendored
 * uPlot from /api/series, and follows the live invalidation feed over SSE.
 * Data from Redis is only ever written with textContent, never as markup.
 */
(() => {
  const REFRESH_MS = 5000;

  function formatBytes(n) {
    if (n == null) return '';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
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
    const series = [{}, { label: figure.dataset.label, stroke: '#2563eb', width: 2, value }];
    if (figure.dataset.second)
      series.push({ label: figure.dataset.secondLabel, stroke: '#dc2626', width: 1, dash: [6, 4], value });
    return {
      width,
      height: 180,
      series,
      scales: percent ? { y: { range: [0, 1] } } : {},
      axes: [{}, { values: (u, ticks) => ticks.map((t) => value(u, t)), size: 84 }],
      legend: { show: true },
    };
  }

  async function drawCharts() {
    const figures = document.querySelectorAll('figure.chart');
    if (figures.length === 0 || typeof uPlot === 'undefined') return;
    const charts = new Map();
    const refresh = async () => {
      let data;
      try {
        const response = await fetch('/api/series', {
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
        const columns = [data.t, data[figure.dataset.series]];
        if (figure.dataset.second) columns.push(data[figure.dataset.second]);
        let chart = charts.get(figure);
        if (chart) chart.setData(columns);
        else {
          const width = Math.max(280, Math.min(560, figure.clientWidth || 480));
          chart = new uPlot(chartOptions(figure, width), columns, figure);
          charts.set(figure, chart);
        }
        figure.dataset.points = String(data.t.length);
        figure.dataset.rendered = '1';
      }
    };
    await refresh();
    setInterval(refresh, REFRESH_MS);
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
      const cells = [
        new Date(item.heardAt).toISOString(),
        item.namespace,
        item.op,
        (item.items || []).join(' '),
        item.local ? 'this console' : item.from,
      ];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      rows.insertBefore(tr, rows.firstChild);
      while (rows.children.length > 200) rows.removeChild(rows.lastChild);
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    drawCharts();
    followFeed();
  });
})();
