/**
 * The parse memo: each distinct SQL text is parsed and normalized once (an
 * LRU of `parseCacheSize` texts), and its entry also keeps what a repeated
 * read of it needs (the shape hash, the tables under the `schemas` option),
 * so a hot query costs one LRU lookup before the Cache.
 */
import { LRUCache } from 'lru-cache';
import { normalizeSql } from './normalize.js';
import type { Analysis, SqlParser } from './parse/analysis.js';

/** @internal The analysis of one SQL text, memoized with what a repeated read of it needs. */
export interface Memo {
  analysis: Analysis;
  normalized: string;
  /** `shapeHash` of the dialect and normalized text, once the text was read through the cache. */
  shape?: string;
  /** A single read statement's tables under the `schemas` option. */
  tables?: string[];
  /** What a repeated read of the text needs, while the views stay as they were (`views`: their generation). */
  plan?: ReadPlan;
}

/** @internal A read of one SQL text with its own tables and no `tags` of the call: built once, reused per hit. */
export interface ReadPlan {
  /** `Views.generation` it was built under. */
  views: number;
  /** The tables read, views expanded. */
  tables: string[];
  /** The entry's tags: one per table, then the all-tables tag. */
  tags: string[];
  /** The tables whose horizons keep readers off the cache: `tables` and the all-tables marker. */
  guarded: string[];
  /** The TTL from the tables' settings or the default (a call's `ttl` or `category` wins over it). */
  ttlMs: number;
  /** The entry key when the read has no parameters. */
  key?: string;
}

/** @internal Analyses of SQL texts, memoized; the parser is loaded on first use. */
export class Analyses {
  private readonly memo: LRUCache<string, Memo>;
  private parserReady = false;
  private parserLoading: Promise<void> | undefined;

  constructor(
    private readonly parser: SqlParser | undefined,
    private readonly dialect: string,
    size: number,
  ) {
    this.memo = new LRUCache({ max: size });
  }

  /** Distinct SQL texts held. */
  get size(): number {
    return this.memo.size;
  }

  /** The memoized analysis of `sql`, if any: synchronous, so a repeated text adds no await. */
  get(sql: string): Memo | undefined {
    return this.memo.get(sql);
  }

  /** The analysis of `sql`: parsed (once the parser is loaded) and normalized, then memoized. */
  async analyze(sql: string): Promise<Memo> {
    const known = this.memo.get(sql);
    if (known) return known;
    const parser = this.parser;
    if (parser && !this.parserReady) {
      this.parserLoading ??= parser.load().then(() => {
        this.parserReady = true;
      });
      await this.parserLoading;
    }
    const analysis: Analysis = parser ? parser.analyze(sql) : { ok: false, reason: 'no-parser' };
    const memo: Memo = { analysis, normalized: normalizeSql(sql, this.dialect) };
    this.memo.set(sql, memo);
    return memo;
  }
}
