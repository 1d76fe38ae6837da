/**
 * The demo end to end, as a user runs it: `pnpm demo` with the embedded
 * defaults (a private redis-server, PGlite) on free ports, the tour's steps
 * over HTTP against both instances, twice (the second run must not trip over
 * the limits, stock and sessions the first left), the admin console started
 * from the command the demo prints and showing the demo's data, then Ctrl-C,
 * after which no process of the demo may be left; and the same start killed
 * with SIGKILL, whose reaper must leave nothing either. One after the other in
 * one file: the first start keeps the seeded embedded database, the second
 * loads it.
 */
import { eventually, isProcessAlive } from '@stratacache/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { COORD_NAMESPACE, ORDER_WINDOWS, SESSIONS } from '../src/app/redis-names.js';
import { createContext } from '../src/tour/context.js';
import { runTour } from '../src/tour/run.js';
import { adminSession, commandVariables, startAdmin } from './admin-console.js';
import { processesOf, type RunningDemo, startDemo } from './demo-process.js';

describe('pnpm demo', () => {
  let demo: RunningDemo | undefined;
  afterAll(async () => {
    // Only if the test failed before its own Ctrl-C: never leave the demo running.
    if (demo && demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.interrupt();
      await demo.exited;
    }
  });

  it('serves the tour twice on two instances, prints a working admin command, and leaves nothing behind after Ctrl-C', {
    timeout: 300_000,
  }, async () => {
    demo = startDemo({
      REDIS_URL: undefined,
      DATABASE_URL: undefined,
      REDIS_NS: undefined,
      DEMO_PORT: '0',
      // Shorter reindex periods, so two of them pass within the test.
      DEMO_REINDEX_MS: '2000',
    });
    const started = performance.now();
    const state = await demo.ready();
    console.log(`demo ready after ${Math.round(performance.now() - started)} ms (pnpm included)`);
    expect(state.instances).toHaveLength(2);
    expect(state.redis.owned).toBe(true);
    expect(state.database.kind).toBe('embedded');
    // Every process the demo started (redis-server rewrites its environment block with its title, so it is
    // found by its pid; the others also by the marker in their environment).
    expect(state.pids.every(isProcessAlive)).toBe(true);
    expect(processesOf(demo.stateFile).length).toBeGreaterThanOrEqual(3);

    // The tour's narration is kept, so a failed check shows what the tour saw (headers, timings).
    const transcript: string[] = [];
    const t = createContext(state, (line) => transcript.push(line));
    const r = await runTour(t, { jobPeriods: 2, pauseMs: 2000 });
    const failed = t.checks.filter((c) => !c.ok).map((c) => `${c.step}: ${c.what}`);
    expect(failed, `${transcript.join('\n')}\n--- the demo's output ---\n${demo.output()}`).toEqual([]);

    // The same properties, asserted on the data rather than the tour's own checks.
    expect(r.catalog.first.headers['x-cache']).toBe('miss');
    expect(r.catalog.second.headers['x-cache']).toBe('hit');
    expect(r.catalog.first.headers['server-timing']).toMatch(/^sql;desc="miss";dur=\d+(\.\d+)?$/);
    expect(r.invalidation.afterB.headers['x-cache']).toBe('miss');
    expect(r.invalidation.afterA.body.product.price_cents).toBe(r.invalidation.newPrice);
    expect(r.invalidation.afterB.body.product.price_cents).toBe(r.invalidation.newPrice);
    expect(r.stampede.runs).toHaveLength(1);
    expect(r.rateLimit.last?.status).toBe(429);
    expect(r.rateLimit.last?.headers).toMatchObject({
      'ratelimit-limit': '10',
      'ratelimit-remaining': '0',
      'ratelimit-policy': '"search";q=10;w=10',
    });
    expect(Number(r.rateLimit.last?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(r.checkout).toMatchObject({ created: 20, refused: 30, stock: 0 });
    expect(new Set(r.checkout.fences).size).toBe(20);
    expect(r.fencing.stale.body.error).toBe('stale-fence');
    expect(r.jobs.perPeriod.size).toBeGreaterThanOrEqual(2);
    expect([...r.jobs.perPeriod.values()].every((n) => n === 1)).toBe(true);
    expect(r.metrics.samples).toBeGreaterThan(0);
    expect(r.metrics.families.some((f) => f?.startsWith('stratacache_sql_cache_'))).toBe(true);
    expect(r.windows.first?.minutes.length).toBeGreaterThan(0);
    expect(r.windows.first?.minutes[0]?.orders).toBeGreaterThan(0);
    expect(r.windows.second).toBeDefined();
    expect(r.failSafe.skipped).toBe(false);

    // Again, against the same running demo: what the first run left (its limits, the stock it sold,
    // its sessions) must not change what the second sees.
    const transcript2: string[] = [];
    const t2 = createContext(state, (line) => transcript2.push(line));
    const r2 = await runTour(t2, { jobPeriods: 2, pauseMs: 2000 });
    expect(
      t2.checks.filter((c) => !c.ok).map((c) => `${c.step}: ${c.what}`),
      `${transcript2.join('\n')}\n--- the demo's output ---\n${demo.output()}`,
    ).toEqual([]);
    expect(r2.rateLimit.allowed).toBe(10);
    expect(r2.rateLimit.last?.status).toBe(429);
    expect(r2.sessions.l3.body.evicted).toBe(1);
    expect(r2.checkout).toMatchObject({ created: 20, refused: 30, stock: 0 });

    // The banner's admin command (printed right after the state file is written).
    await eventually(() => demo?.output().includes('pnpm admin') ?? false, 10_000);
    const line = /^ {2}Admin {8}(\S.*pnpm admin)$/m.exec(demo.output())?.[1];
    expect(line, demo.output()).toBeDefined();
    const vars = commandVariables(line as string);
    expect(vars).toEqual({
      REDIS_URL: state.redis.url,
      REDIS_NS: 'stratashop',
      ADMIN_SESSION_NAMESPACES: `${SESSIONS.namespace}=${SESSIONS.maxPerUser}`,
      ADMIN_COORD_NAMESPACE: COORD_NAMESPACE,
      ADMIN_WINDOW_SERIES: `${ORDER_WINDOWS.series}=${ORDER_WINDOWS.size}/${ORDER_WINDOWS.grace}`,
    });
    // Run as printed (on a free port): each variable must change what the console does, so each
    // is one it reads. A name it did not read would be ignored, and its check below would fail.
    const admin = startAdmin(vars, { ADMIN_PORT: '0' });
    try {
      const running = await admin.ready();
      const { host } = new URL(state.redis.url);
      expect(running.redis).toContain(`redis://${host}/0, prefix=stratashop,`); // REDIS_URL, REDIS_NS
      const get = await adminSession(running.url, running.password);
      // ADMIN_SESSION_NAMESPACES: the demo's namespace with its device limit (carol logged in during the tours).
      const sessions = await get(`/sessions?ns=${SESSIONS.namespace}&user=carol`);
      expect(sessions).toMatch(
        new RegExp(`data-testid="session-count">\\d+ live of at most ${SESSIONS.maxPerUser}\\.`),
      );
      // ADMIN_COORD_NAMESPACE: the page reads the demo's locks and claims.
      expect(await get('/coordination')).toContain(`Namespace ${COORD_NAMESPACE} (locks`);
      // ADMIN_WINDOW_SERIES: the series' grace is known, not inferred.
      const windows = await get(`/windows?ns=${ORDER_WINDOWS.namespace}&name=${ORDER_WINDOWS.series}`);
      expect(windows).toMatch(/<th>grace<\/th><td>10s<\/td>/);
    } finally {
      await admin.stop();
    }

    demo.interrupt();
    const { code, signal } = await demo.exited;
    // pnpm ends on the SIGINT itself (as in a terminal); the launcher says it stopped everything.
    expect(code === 0 || signal === 'SIGINT').toBe(true);
    expect(demo.output()).toContain('Ctrl-C, stopping the instances');
    expect(demo.output()).toContain('stopped; no process of the demo is left');
    // The reaper is the last to go: it exits right after the launcher closed its pipe.
    const stateFile = demo.stateFile;
    const all = [state.pid, ...state.pids];
    await eventually(() => processesOf(stateFile).length === 0 && !all.some(isProcessAlive), 10_000).catch(() => {});
    expect(processesOf(stateFile)).toEqual([]);
    expect(all.filter(isProcessAlive)).toEqual([]);
  });

  it('leaves no process behind when the launcher is killed with SIGKILL (its reaper kills the rest)', {
    timeout: 120_000,
  }, async () => {
    demo = startDemo({ REDIS_URL: undefined, DATABASE_URL: undefined, REDIS_NS: undefined, DEMO_PORT: '0' });
    const state = await demo.ready();
    expect(state.pids.every(isProcessAlive)).toBe(true);

    process.kill(state.pid, 'SIGKILL');
    await demo.exited;
    const stateFile = demo.stateFile;
    await eventually(() => !state.pids.some(isProcessAlive) && processesOf(stateFile).length === 0, 15_000).catch(
      () => {},
    );
    expect(state.pids.filter(isProcessAlive)).toEqual([]);
    expect(processesOf(stateFile)).toEqual([]);
  });
});
