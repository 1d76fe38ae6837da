/**
 * The periodic "reindex" job: rebuilds the search index from the products.
 * Both instances try every second; time is cut into periods on Redis's clock
 * (so both agree on the period whatever their own clocks say), and each
 * period's run is a task claim (`reindex:<period>`, SET NX): exactly one
 * instance runs it, the other sees who holds it. Every run is recorded in
 * `job_runs`, which has no unique constraint on purpose: a second claimant
 * would show up there as a second row for the same period.
 */
import { quietError } from '../quiet-log.js';
import type { Services } from '../services.js';

/** What this instance knows about the job. */
export interface ReindexStatus {
  /** Claim attempts (one per period this instance saw). */
  attempts: number;
  /** Periods this instance claimed and ran. */
  claimed: number;
  /** Periods another instance held. */
  held: number;
  /** Attempts that failed (Redis or the database down). */
  errors: number;
  lastClaimed?: { period: number; rows: number; at: string };
  lastHeldBy?: { period: number; owner: string };
}

/** Starts the job; resolves a handle to read its status and stop it. */
export function startReindex(s: Services): { status: ReindexStatus; stop(): Promise<void> } {
  const status: ReindexStatus = { attempts: 0, claimed: 0, held: 0, errors: 0 };
  const every = s.config.reindexEveryMs;
  let lastPeriod = -1;
  let running: Promise<void> | undefined;

  async function tick(): Promise<void> {
    await s.redis.clock.ready();
    const period = Math.floor(s.redis.clock.now() / every);
    if (period === lastPeriod) return;
    lastPeriod = period;
    status.attempts++;
    // The claim outlives the period, so a slow instance that reaches it late cannot take it again.
    const claim = await s.claims.claimTask(`reindex:${period}`, { ttl: every * 3 });
    if (!claim.claimed) {
      status.held++;
      status.lastHeldBy = { period, owner: claim.owner ?? 'unknown' };
      return;
    }
    status.claimed++;
    const rows = await s.sql.transaction(async (tx) => {
      await tx.query('DELETE FROM search_index');
      const inserted = await tx.query(
        `INSERT INTO search_index (product_id, document)
         SELECT id, to_tsvector('simple', name || ' ' || category || ' ' || description) FROM products`,
      );
      await tx.query('INSERT INTO job_runs (job, period, instance, rows) VALUES ($1, $2, $3, $4)', [
        'reindex',
        period,
        s.config.instance,
        inserted.rowCount,
      ]);
      return inserted.rowCount;
    });
    status.lastClaimed = { period, rows, at: new Date().toISOString() };
    console.log(`reindex: claimed period ${period}, indexed ${rows} products`);
  }

  const timer = setInterval(() => {
    if (running) return;
    running = tick()
      .catch((error: Error) => {
        status.errors++;
        quietError('reindex', error.message);
      })
      .finally(() => {
        running = undefined;
      });
  }, 1000);
  timer.unref();
  return {
    status,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
