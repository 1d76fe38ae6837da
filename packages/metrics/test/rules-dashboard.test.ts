/**
 * The shipped alerting rules and Grafana dashboard: valid, and every metric
 * they query is one this package registers (so a rename cannot leave a
 * panel or an alert silently empty). The rules also go through
 * `promtool check rules` and their unit tests through `promtool test rules`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registerMetrics } from '../src/index.js';
import { client } from './helpers.js';

const root = join(import.meta.dirname, '..');
const rulesFile = join(root, 'rules/stratacache-alerts.yml');
const rulesTestFile = join(root, 'rules/stratacache-alerts.test.yml');
const dashboardFile = join(root, 'dashboards/stratacache.json');

/** promtool: PROMTOOL, else on PATH, else where .ci/run unpacks Debian's prometheus package. */
function findPromtool(): string | undefined {
  const candidates = [
    process.env.PROMTOOL,
    ...(process.env.PATH ?? '').split(':').map((dir) => join(dir, 'promtool')),
    join(root, '../../.tmp/tools/promtool'),
  ];
  return candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c));
}

/** Every metric the package registers, server metrics included. */
function registeredNames(): Set<string> {
  const handle = registerMetrics({ registry: new Registry(), redis: client() });
  const names = new Set(handle.metricNames);
  handle.unregister();
  return names;
}

/** Metric names an expression reads (`_bucket`, `_count`, `_sum` mapped to their histogram). */
function metricsIn(expr: string, known: Set<string>): string[] {
  const found = expr.match(/\b(?:stratacache|redis)_[a-zA-Z0-9_]+/g) ?? [];
  return found.map((name) => {
    const base = name.replace(/_(bucket|count|sum)$/, '');
    return known.has(name) ? name : base;
  });
}

type Rule = {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};

describe('alerting rules', () => {
  const doc = parse(readFileSync(rulesFile, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
  const rules = doc.groups.flatMap((g) => g.rules);

  it('have the structure Prometheus loads: named groups of alerts with expr, for, severity and a summary', () => {
    expect(doc.groups.length).toBeGreaterThan(0);
    for (const group of doc.groups) {
      expect(group.name).toMatch(/\S/);
      expect(group.rules.length).toBeGreaterThan(0);
    }
    for (const rule of rules) {
      expect(typeof rule.expr).toBe('string');
      expect(Boolean(rule.alert) !== Boolean(rule.record)).toBe(true);
      if (rule.alert) {
        expect(rule.alert).toMatch(/^[A-Z][A-Za-z0-9]+$/);
        expect(rule.for).toMatch(/^\d+[smh]$/);
        expect(['info', 'warning', 'critical']).toContain(rule.labels?.severity);
        expect(rule.annotations?.summary).toMatch(/\S/);
      }
    }
    const alerts = rules.map((r) => r.alert).filter(Boolean);
    expect(alerts).toEqual(
      expect.arrayContaining([
        'StratacacheCacheHitRatioLow',
        'StratacacheRedisMemoryHigh',
        'StratacacheRedisEvictionsHigh',
        'StratacacheRedisBreakerOpen',
        'StratacacheInvalidationBusDisconnected',
      ]),
    );
    // The thresholds of the issue, and the guard against maxmemory 0.
    const byName = (name: string) => rules.find((r) => r.alert === name)?.expr ?? '';
    expect(byName('StratacacheCacheHitRatioLow')).toMatch(/< 0\.8\b/);
    expect(byName('StratacacheRedisMemoryHigh')).toMatch(/redis_memory_max_bytes > 0\) > 0\.9/);
    expect(byName('StratacacheRedisEvictionsHigh')).toMatch(/rate\(redis_evicted_keys_total\[1m\]\) > 1000/);
  });

  it('query only metrics this package registers', () => {
    const known = registeredNames();
    for (const rule of rules)
      for (const name of metricsIn(rule.expr, known))
        expect(known, `${rule.alert ?? rule.record}: ${name}`).toContain(name);
  });

  const promtool = findPromtool();
  // In CI promtool is always there (.ci/run unpacks it); elsewhere this is reported as skipped, never as passed.
  it.skipIf(!promtool && !process.env.CI)(
    'pass `promtool check rules` and their unit tests (`promtool test rules`)',
    () => {
      if (!promtool)
        throw new Error('promtool not found: .ci/run unpacks it into .tmp/tools from Debian package "prometheus"');
      const check = execFileSync(promtool, ['check', 'rules', rulesFile], { encoding: 'utf8' });
      expect(check).toMatch(/SUCCESS: \d+ rules found/);
      const unit = execFileSync(promtool, ['test', 'rules', rulesTestFile], {
        encoding: 'utf8',
        cwd: join(root, 'rules'),
      });
      expect(unit).toMatch(/SUCCESS/);
    },
  );
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as {
    title: string;
    uid: string;
    __inputs: Array<{ name: string; type: string }>;
    panels: Array<{ type: string; title: string; gridPos: object; targets?: Array<{ expr: string; refId: string }> }>;
  };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');

  it('is importable: a title, a uid, a Prometheus data source input, and panels with queries', () => {
    expect(dashboard.title).toBe('stratacache');
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.__inputs).toContainEqual(expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource' }));
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of panels) {
      expect(panel.gridPos).toBeDefined();
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
    const titles = panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const topic of [
      'hit ratio per tier',
      'latency',
      'lock',
      'rate-limit',
      'sessions',
      'bus',
      'memory',
      'evictions',
    ]) {
      expect(titles).toContain(topic);
    }
  });

  it('queries only metrics this package registers', () => {
    const known = registeredNames();
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        const names = metricsIn(target.expr, known);
        expect(names.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        for (const name of names) expect(known, `${panel.title}: ${name}`).toContain(name);
      }
    }
  });
});
