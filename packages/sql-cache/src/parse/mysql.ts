/**
 * The MySQL / MariaDB parser: node-sql-parser's MySQL build (a PEG grammar
 * in plain JavaScript). It lists every table with the operation on it
 * (`update::db::t`); the AST gives the statement type and CTE names.
 *
 * Multi-table UPDATE and DELETE (`DELETE a, b FROM a JOIN b ...`) list only
 * the first target as written, so every table of such a statement counts as
 * written: over-invalidating a joined table costs a miss, missing a target
 * would cost a stale read.
 *
 * node-sql-parser is an optional peer dependency (89 MB with every dialect):
 * `load()` imports it and fails with a message saying how to install it.
 */
import { ConfigError } from '@stratacache/core-client';
import { ALL_TABLES, type Analysis, type SqlParser, type Statement, type TransactionOp } from './analysis.js';

type Node = Record<string, unknown>;

interface NodeSqlParser {
  parse(sql: string, options: { database: string }): { tableList: string[]; ast: Node | Node[] };
}

/** Transaction control, read before the grammar (which does not know SAVEPOINT or ROLLBACK TO). */
const TRANSACTION: Array<[RegExp, TransactionOp]> = [
  [/^(begin|start\s+transaction)\b/i, 'begin'],
  [/^commit\b/i, 'commit'],
  [/^rollback\s+(work\s+)?to\b/i, 'rollback-to'],
  [/^rollback\b/i, 'rollback'],
  [/^savepoint\b/i, 'savepoint'],
  [/^release\s+savepoint\b/i, 'release'],
  [/^xa\b/i, 'prepare'],
];

const HARMLESS = new Set(['set', 'show', 'use', 'lock', 'unlock', 'desc', 'grant', 'revoke', 'create_index']);
const DDL = new Set(['create', 'alter', 'drop', 'rename']);

function tableName(entry: string): { op: string; name: string } {
  const [op = '', db = 'null', table = ''] = entry.split('::');
  const t = table.toLowerCase();
  return { op: op.toLowerCase(), name: db === 'null' ? t : `${db.toLowerCase()}.${t}` };
}

function cteNames(ast: Node): Set<string> {
  const names = new Set<string>();
  const withs = (ast.with as Node[] | null | undefined) ?? [];
  for (const w of withs) {
    const name = w.name as { value?: string } | string | undefined;
    const value = typeof name === 'string' ? name : name?.value;
    if (value) names.add(value.toLowerCase());
  }
  return names;
}

function analyzeAst(ast: Node, listed: Array<{ op: string; name: string }>): Statement {
  const type = String(ast.type ?? '').toLowerCase();
  const ctes = cteNames(ast);
  const tables = [...new Set(listed.map((t) => t.name).filter((name) => name && !ctes.has(name)))];
  switch (type) {
    case 'select': {
      if (ast.locking_read) return { kind: 'uncacheable', reason: 'locking', tables };
      const into = ast.into as Node | undefined;
      if (into && (into.expr || into.keyword)) return { kind: 'uncacheable', reason: 'select-into', tables };
      return { kind: 'read', tables };
    }
    case 'insert':
    case 'replace': {
      const written = listed.filter((t) => t.op === 'insert' || t.op === 'replace').map((t) => t.name);
      return { kind: 'write', tables: written.length > 0 ? [...new Set(written)] : ALL_TABLES };
    }
    case 'update':
    case 'delete':
      return { kind: 'write', tables: tables.length > 0 ? tables : ALL_TABLES };
    case 'truncate':
      return { kind: 'write', tables: tables.length > 0 ? tables : ALL_TABLES };
    case 'explain':
    case 'desc':
      return { kind: 'uncacheable', reason: 'explain', tables: [] };
    case 'transaction':
      return { kind: 'other' };
    default:
      if (DDL.has(type)) return { kind: 'write', tables: ALL_TABLES, ddl: true };
      if (HARMLESS.has(type)) return { kind: 'other' };
      // CALL, LOAD DATA, HANDLER, anything unknown: it may write anything.
      return { kind: 'write', tables: ALL_TABLES };
  }
}

/** Reads MySQL / MariaDB with node-sql-parser's MySQL build. */
export class MysqlParser implements SqlParser {
  readonly dialect = 'mysql';
  private parser: NodeSqlParser | undefined;
  private loading: Promise<void> | undefined;

  load(): Promise<void> {
    this.loading ??= import('node-sql-parser/build/mysql.js').then(
      (loaded: unknown) => {
        const mod = loaded as { default?: { Parser?: new () => NodeSqlParser }; Parser?: new () => NodeSqlParser };
        const Parser = mod.Parser ?? mod.default?.Parser;
        if (!Parser) throw new ConfigError('node-sql-parser/build/mysql.js did not export a Parser');
        this.parser = new Parser();
      },
      (error: unknown) => {
        this.loading = undefined;
        throw new ConfigError(
          "Reading MySQL statements needs the optional peer dependency 'node-sql-parser' (pnpm add node-sql-parser@^5.4.0), or pass `tables` to every query",
          { cause: error },
        );
      },
    );
    return this.loading;
  }

  analyze(sql: string): Analysis {
    const parser = this.parser;
    if (!parser) return { ok: false, reason: 'parser-not-loaded' };
    const text = sql.trim().replace(/;\s*$/, '');
    for (const [pattern, op] of TRANSACTION) {
      if (pattern.test(text) && !text.includes(';')) return { ok: true, statements: [{ kind: 'transaction', op }] };
    }
    let result: ReturnType<NodeSqlParser['parse']>;
    try {
      result = parser.parse(text, { database: 'MySQL' });
    } catch {
      return { ok: false, reason: 'syntax' };
    }
    const asts = (Array.isArray(result.ast) ? result.ast : [result.ast]).filter(Boolean);
    const listed = result.tableList.map(tableName).filter((t) => t.name !== 'null');
    // Several statements share one table list: each write counts every table listed.
    const statements = asts.map((ast) => analyzeAst(ast, listed));
    const transactions = asts.filter((ast) => String(ast.type) === 'transaction');
    if (transactions.length > 0 && asts.length > 1) {
      // BEGIN/COMMIT mixed with statements in one text: treat the text as one write of every table listed.
      const tables = [...new Set(listed.map((t) => t.name))];
      return { ok: true, statements: [{ kind: 'write', tables: tables.length > 0 ? tables : ALL_TABLES }] };
    }
    if (statements.length === 0) return { ok: false, reason: 'empty' };
    return { ok: true, statements };
  }
}

/** A MySQL / MariaDB parser (node-sql-parser, optional peer). Await `load()` once before `analyze()`. */
export function mysqlParser(): SqlParser {
  return new MysqlParser();
}
