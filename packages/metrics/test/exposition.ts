/**
 * A small parser of the Prometheus text exposition format, so tests assert
 * on parsed samples (name, labels, value) of what a scraper would receive,
 * not on hand-matched strings.
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed scrape: samples plus each family's TYPE and HELP. */
export interface Scrape {
  samples: Sample[];
  types: Map<string, string>;
  help: Map<string, string>;
}

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Parses exposition text; throws on a line it does not understand. */
export function parseExposition(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^# (TYPE|HELP) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'TYPE' ? types : help).set(meta[2] as string, meta[3] as string);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)( [0-9]+)?$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    let consumed = 0;
    for (let l = re.exec(body); l; l = re.exec(body)) {
      labels[l[1] as string] = unescapeLabel(l[2] as string);
      consumed += l[0].length;
    }
    if (consumed !== body.length) throw new Error(`unparsable labels: ${line}`);
    const raw = m[4] as string;
    const value = raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`bad value: ${line}`);
    samples.push({ name: m[1] as string, labels, value });
  }
  return { samples, types, help };
}

/** Samples named `name` whose labels include `labels`. */
export function find(scrape: Scrape, name: string, labels: Record<string, string> = {}): Sample[] {
  return scrape.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The sum of the matching samples' values (0 when none match). */
export function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  return find(scrape, name, labels).reduce((sum, s) => sum + s.value, 0);
}

/** Distinct label sets of a family (histograms: of its `_count` series). */
export function seriesOf(scrape: Scrape, family: string): Sample[] {
  const type = scrape.types.get(family);
  return find(scrape, type === 'histogram' ? `${family}_count` : family);
}
