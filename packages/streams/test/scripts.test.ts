/**
 * The apply script on its own: the embedded copy matches lua/, a batch is
 * applied once (a replay answers `dup`, a batch computed from an old offset
 * answers `stale`), min and max keep extremes, and every key of a call shares
 * one Cluster slot.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { accumulate } from '../src/accumulate.js';
import { packApply, runApply } from '../src/apply-script.js';
import { luaScripts } from '../src/lua.generated.js';
import { resolveWindowSpec } from '../src/options.js';
import { SeriesKeys } from '../src/series.js';
import type { StreamRecord } from '../src/source.js';
import { compareOffsets, windowStarts } from '../src/windows.js';
import { client } from './helpers.js';

describe('the Lua file', () => {
  test('is embedded as written (embed-lua --check) with its SHA-1 and a keys/args/reply header', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const out = execFileSync(
      'node',
      [
        'scripts/embed-lua.mjs',
        'packages/streams/lua',
        'packages/streams/src/lua.generated.ts',
        '--check',
        '--types-from',
        '@stratacache/core-client',
      ],
      { cwd: root },
    ).toString();
    expect(out).toMatch(/matches 1 Lua file/);
    const script = luaScripts.windowApply;
    const source = readFileSync(new URL('../lua/window-apply-2.lua', import.meta.url), 'utf8');
    expect(script.source).toBe(source);
    expect(script.sha1).toBe(createHash('sha1').update(source).digest('hex'));
    expect(script.header).toMatch(/keys:[\s\S]*args:[\s\S]*reply:/);
  });
});

describe('window arithmetic', () => {
  test('windowStarts: one tumbling window, size/hop hopping windows, epoch-aligned', () => {
    expect(windowStarts(125_000, 60_000, 60_000)).toEqual([120_000]);
    expect(windowStarts(120_000, 60_000, 60_000)).toEqual([120_000]);
    expect(windowStarts(125_000, 60_000, 20_000)).toEqual([80_000, 100_000, 120_000]);
    expect(windowStarts(5, 10, 3)).toEqual([-3, 0, 3]);
  });

  test('compareOffsets orders Kafka offsets and stream IDs part by part', () => {
    expect(compareOffsets('9', '10')).toBe(-1);
    expect(compareOffsets('1700000000000-10', '1700000000000-9')).toBe(1);
    expect(compareOffsets('1700000000001-0', '1700000000000-99')).toBe(1);
    expect(compareOffsets('5-5', '5-5')).toBe(0);
  });
});

describe('window-apply', () => {
  const spec = resolveWindowSpec({ name: 's', size: 1000, grace: 0, retention: '1h', fields: ['v'], distinct: ['u'] });
  const records = (from: number, values: number[], base: number): StreamRecord[] =>
    values.map((v, i) => ({ offset: String(from + i), value: { time: base + i, v, u: `u${v}` } }));

  test('applies once: a replay answers dup, a batch from an older offset answers stale', async () => {
    const redis = client();
    const series = new SeriesKeys(redis.keys('streams'), spec);
    const base = Math.floor(Date.now() / 1000) * 1000;
    const first = records(0, [5, -2, 9], base);
    const times = first.map((r) => Number(r.value?.time));
    const deltas = accumulate(spec, first, times, { offset: undefined, watermark: -Infinity }, Date.now());
    const settings = { idleMs: 0, publish: false };
    expect(await runApply(redis, series, 'p', undefined, deltas, settings)).toMatchObject({
      kind: 'ok',
      updated: [base],
    });
    // The same call again (a retry whose first attempt had succeeded).
    expect(await runApply(redis, series, 'p', undefined, deltas, settings)).toEqual({ kind: 'dup', stored: '2' });
    // Computed from an older offset than Redis holds, but reaching further: recompute.
    const longer = records(0, [5, -2, 9, 4], base);
    const stale = accumulate(
      spec,
      longer,
      longer.map((r) => Number(r.value?.time)),
      { offset: undefined, watermark: -Infinity },
      Date.now(),
    );
    expect(await runApply(redis, series, 'p', undefined, stale, settings)).toEqual({ kind: 'stale', stored: '2' });
    const window = await redis.client.hgetall(series.window(base));
    expect(window).toMatchObject({ count: '3', 'sum:v': '12', 'min:v': '-2', 'max:v': '9' });
    expect(await redis.client.pfcount(series.distinct(base, 'u'))).toBe(3);
    expect(await redis.client.hget(series.offsets, 'o:p')).toBe('2');
  });

  test('every key of a call shares the series hash tag (one Cluster slot)', () => {
    const redis = client();
    const series = new SeriesKeys(redis.keys('streams'), spec);
    const base = 1_700_000_000_000;
    const many = records(0, [1, 2, 3, 4, 5], base).map((r, i) => ({
      ...r,
      value: { ...r.value, time: base + i * 1000 },
    }));
    const deltas = accumulate(
      spec,
      many,
      many.map((r) => Number(r.value?.time)),
      { offset: undefined, watermark: -Infinity },
      base,
    );
    const { keys } = packApply(series, 'p', undefined, deltas, { idleMs: 0, publish: true });
    expect(keys).toHaveLength(2 + 5 + 5);
    // Redis Cluster hashes only the part between the first '{' and the next '}'.
    expect(new Set(keys.map((key) => /\{([^}]*)\}/.exec(key)?.[1]))).toEqual(new Set(['s']));
  });
});
