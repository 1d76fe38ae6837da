/**
 * Tags of cached results. Every result carries its tables' tags and the
 * all-tables tag, so invalidating one table, or all of them (an unparseable
 * write, a gap in LISTEN), is one tag invalidation: no SCAN.
 */

/** Tag of every cached result: invalidating it invalidates every table. */
export const ALL_TAG = 't:*';

/** The tag of a table's results. */
export function tableTag(table: string): string {
  return `t:${table}`;
}
