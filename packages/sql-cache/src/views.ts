/**
 * Views and the tables they read. A cached result that reads a view is
 * tagged with the view and with every table behind it (views of views
 * included), so a write to a base table invalidates it.
 *
 * Declared views come from options; the rest are read once, on first use,
 * from `information_schema.view_table_usage` (PostgreSQL; MySQL 8.0.13+;
 * MariaDB has no such view, declare them there). `refresh()` reads them again
 * (DDL through sql-cache does it).
 */
import type { SqlExecutor } from './driver.js';

const DISCOVER = 'SELECT view_schema, view_name, table_schema, table_name FROM information_schema.view_table_usage';

/** The view map of one sql-cache. */
export class Views {
  private discovered = new Map<string, string[]>();
  private loading: Promise<void> | undefined;
  private loaded = false;
  private changes = 0;

  constructor(
    private readonly declared: ReadonlyMap<string, readonly string[]>,
    private readonly discover: boolean,
    private readonly name: (table: string) => string,
    private readonly failed: (error: unknown) => void,
  ) {}

  /** Grows whenever `expand` may answer differently (views read again): read plans keyed by it go stale. */
  get generation(): number {
    return this.changes;
  }

  /** True once discovery is done (or off): `expand` is then synchronous. */
  get ready(): boolean {
    return this.loaded || !this.discover;
  }

  /** Reads the views of the database (once; again after `refresh`). A failure leaves declared views only. */
  load(db: SqlExecutor): Promise<void> {
    if (!this.discover) return Promise.resolve();
    this.loading ??= db
      .query(DISCOVER, [])
      .then(
        (result) => {
          const map = new Map<string, string[]>();
          for (const row of result.rows as Array<Record<string, unknown>>) {
            const get = (k: string) => String(row[k] ?? row[k.toUpperCase()] ?? '');
            const view = this.name(`${get('view_schema')}.${get('view_name')}`);
            const base = this.name(`${get('table_schema')}.${get('table_name')}`);
            if (view === base) continue;
            const list = map.get(view) ?? [];
            if (!list.includes(base)) list.push(base);
            map.set(view, list);
          }
          this.discovered = map;
          this.changes++;
        },
        (error: unknown) => this.failed(error),
      )
      .finally(() => {
        this.loaded = true;
      });
    return this.loading;
  }

  /** Forgets discovered views; the next `load` reads them again. */
  refresh(): void {
    this.loading = undefined;
    this.loaded = false;
    this.changes++;
  }

  /** `tables` plus every table behind the views among them (transitively; cycles end). */
  expand(tables: readonly string[]): string[] {
    if (this.declared.size === 0 && this.discovered.size === 0) return [...tables];
    const out: string[] = [];
    const seen = new Set<string>();
    const visit = (t: string) => {
      if (seen.has(t)) return;
      seen.add(t);
      out.push(t);
      for (const base of this.declared.get(t) ?? this.discovered.get(t) ?? []) visit(base);
    };
    for (const t of tables) visit(t);
    return out;
  }
}
