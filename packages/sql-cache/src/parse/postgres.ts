/**
 * The PostgreSQL (and PGlite) parser: libpg-query, which is PostgreSQL's own
 * parser compiled to WASM, so whatever PostgreSQL accepts is read exactly as
 * the server reads it. The tree is walked for the tables a statement reads
 * (every RangeVar that is not a CTE in scope) and writes (the target of
 * INSERT, UPDATE, DELETE, MERGE, TRUNCATE, SELECT INTO, COPY FROM, including
 * data-modifying CTEs).
 */
import { loadModule, parseSync } from 'libpg-query';
import { ALL_TABLES, type Analysis, type SqlParser, type Statement, type TransactionOp } from './analysis.js';

type Node = Record<string, unknown>;

/** What one walk of a statement found. */
interface Found {
  reads: string[];
  writes: string[];
  locking: boolean;
  volatile: string | undefined;
}

/** Functions whose call is a side effect: a statement calling one is never cached. */
const SIDE_EFFECT_FUNCTIONS = new Set([
  'nextval',
  'setval',
  'pg_notify',
  'pg_advisory_lock',
  'pg_advisory_xact_lock',
  'pg_try_advisory_lock',
  'pg_try_advisory_xact_lock',
  'pg_advisory_unlock',
  'pg_sleep',
  'txid_current',
  'pg_current_xact_id',
  'set_config',
  'lo_import',
  'lo_unlink',
  'dblink_exec',
]);

/** Statements that change no table data and need no invalidation. */
const HARMLESS = new Set([
  'VariableSetStmt',
  'VariableShowStmt',
  'ListenStmt',
  'UnlistenStmt',
  'NotifyStmt',
  'LockStmt',
  'DiscardStmt',
  'DeallocateStmt',
  'PrepareStmt',
  'CheckPointStmt',
  'VacuumStmt',
  'ReindexStmt',
  'ClusterStmt',
  'CommentStmt',
  'GrantStmt',
  'GrantRoleStmt',
  'CreateRoleStmt',
  'AlterRoleStmt',
  'DropRoleStmt',
  'CreateSchemaStmt',
  'IndexStmt',
  'CreateStmt',
  'CreateSeqStmt',
  'AlterSeqStmt',
  'CreateFunctionStmt',
  'CreateTrigStmt',
  'CreateExtensionStmt',
  'ConstraintsSetStmt',
  'CreateTableAsStmt',
  'CreateDomainStmt',
  'CompositeTypeStmt',
  'CreateEnumStmt',
  'LoadStmt',
]);

/** DDL that changes what existing tables or views return: every table is invalidated (and views re-read). */
const CHANGES_RESULTS = new Set(['AlterTableStmt', 'DropStmt', 'RenameStmt', 'ViewStmt', 'AlterFunctionStmt']);

const TRANSACTION_KINDS: Record<string, TransactionOp | undefined> = {
  TRANS_STMT_BEGIN: 'begin',
  TRANS_STMT_START: 'begin',
  TRANS_STMT_COMMIT: 'commit',
  TRANS_STMT_ROLLBACK: 'rollback',
  TRANS_STMT_SAVEPOINT: 'savepoint',
  TRANS_STMT_RELEASE: 'release',
  TRANS_STMT_ROLLBACK_TO: 'rollback-to',
  TRANS_STMT_PREPARE: 'prepare',
};

function tableOf(rangeVar: Node): string {
  const rel = String(rangeVar.relname ?? '').toLowerCase();
  const schema = rangeVar.schemaname ? String(rangeVar.schemaname).toLowerCase() : '';
  return schema ? `${schema}.${rel}` : rel;
}

/** Walks `node`, with `scope` the CTE names visible there (a stack of sets). */
function walk(node: unknown, scope: readonly Set<string>[], found: Found): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, scope, found);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Node;
  const withClause = obj.withClause as Node | undefined;
  if (withClause && Array.isArray(withClause.ctes)) {
    const ctes = (withClause.ctes as Node[]).map((c) => (c.CommonTableExpr ?? c) as Node);
    const names = ctes.map((c) => String(c.ctename ?? '').toLowerCase());
    const recursive = withClause.recursive === true;
    // A non-recursive CTE sees the ones before it; `t` inside `WITH t AS (SELECT * FROM t)` is the table.
    ctes.forEach((cte, i) => {
      const visible = new Set(recursive ? names : names.slice(0, i));
      walk(cte.ctequery, [...scope, visible], found);
    });
    const inner = [...scope, new Set(names)];
    for (const [key, value] of Object.entries(obj)) if (key !== 'withClause') walkKey(key, value, inner, found);
    return;
  }
  for (const [key, value] of Object.entries(obj)) walkKey(key, value, scope, found);
}

function walkKey(key: string, value: unknown, scope: readonly Set<string>[], found: Found): void {
  switch (key) {
    case 'RangeVar': {
      const rv = value as Node;
      const name = tableOf(rv);
      const isCte = !rv.schemaname && scope.some((s) => s.has(name));
      if (!isCte && name) found.reads.push(name);
      return;
    }
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt': {
      const relation = (value as Node).relation as Node | undefined;
      if (relation) found.writes.push(tableOf(relation));
      break;
    }
    case 'intoClause': {
      const rel = (value as Node).rel as Node | undefined;
      if (rel) found.writes.push(tableOf(rel));
      break;
    }
    case 'lockingClause':
      found.locking = true;
      break;
    case 'FuncCall': {
      const names = ((value as Node).funcname as Node[] | undefined) ?? [];
      const last = names[names.length - 1] as Node | undefined;
      const fn = String((last?.String as Node | undefined)?.sval ?? '').toLowerCase();
      if (SIDE_EFFECT_FUNCTIONS.has(fn)) found.volatile ??= fn;
      break;
    }
  }
  // A relation named directly (not wrapped in { RangeVar }) is a read too.
  if ((key === 'relation' || key === 'rel') && value && typeof value === 'object' && 'relname' in value) {
    walkKey('RangeVar', value, scope, found);
    return;
  }
  walk(value, scope, found);
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

function analyzeNode(type: string, body: Node): Statement {
  if (type === 'TransactionStmt') {
    const op = TRANSACTION_KINDS[String(body.kind)];
    // COMMIT PREPARED / ROLLBACK PREPARED settle a transaction we never saw: assume it wrote anything.
    return op ? { kind: 'transaction', op } : { kind: 'write', tables: ALL_TABLES };
  }
  if (HARMLESS.has(type)) return { kind: 'other' };
  if (CHANGES_RESULTS.has(type)) return { kind: 'write', tables: ALL_TABLES, ddl: true };
  if (type === 'ExplainStmt') {
    const options = (body.options as Node[] | undefined) ?? [];
    const analyze = options.some((o) => String((o.DefElem as Node | undefined)?.defname) === 'analyze');
    const inner = body.query as Node | undefined;
    if (analyze && inner) {
      const [innerType, innerBody] = Object.entries(inner)[0] ?? [];
      if (innerType) {
        const statement = analyzeNode(innerType, innerBody as Node);
        if (statement.kind === 'write') return statement;
      }
    }
    return { kind: 'uncacheable', reason: 'explain', tables: [] };
  }
  if (type === 'TruncateStmt') {
    const rels = ((body.relations as Node[] | undefined) ?? []).map((r) => tableOf((r.RangeVar ?? r) as Node));
    return { kind: 'write', tables: unique(rels) };
  }
  if (type === 'RefreshMatViewStmt') {
    const rel = body.relation as Node | undefined;
    return rel ? { kind: 'write', tables: [tableOf(rel)] } : { kind: 'write', tables: ALL_TABLES };
  }
  if (type === 'CopyStmt') {
    const rel = body.relation as Node | undefined;
    if (body.is_from) return rel ? { kind: 'write', tables: [tableOf(rel)] } : { kind: 'write', tables: ALL_TABLES };
    return { kind: 'uncacheable', reason: 'copy', tables: rel ? [tableOf(rel)] : [] };
  }
  if (
    type === 'SelectStmt' ||
    type === 'InsertStmt' ||
    type === 'UpdateStmt' ||
    type === 'DeleteStmt' ||
    type === 'MergeStmt'
  ) {
    const found: Found = { reads: [], writes: [], locking: false, volatile: undefined };
    walkKey(type, body, [], found);
    if (found.writes.length > 0) return { kind: 'write', tables: unique(found.writes) };
    const tables = unique(found.reads);
    if (found.locking) return { kind: 'uncacheable', reason: 'locking', tables };
    if (found.volatile) return { kind: 'uncacheable', reason: 'side-effect-function', tables };
    return { kind: 'read', tables };
  }
  // CALL, DO, EXECUTE and anything this list does not know: it may write anything.
  return { kind: 'write', tables: ALL_TABLES };
}

/** Reads PostgreSQL with libpg-query. */
export class PostgresParser implements SqlParser {
  readonly dialect = 'postgres';
  private loading: Promise<void> | undefined;
  private loaded = false;

  load(): Promise<void> {
    this.loading ??= loadModule().then(() => {
      this.loaded = true;
    });
    return this.loading;
  }

  analyze(sql: string): Analysis {
    if (!this.loaded) return { ok: false, reason: 'parser-not-loaded' };
    let tree: { stmts?: Array<{ stmt?: Node }> };
    try {
      tree = parseSync(sql) as unknown as { stmts?: Array<{ stmt?: Node }> };
    } catch {
      return { ok: false, reason: 'syntax' };
    }
    const statements: Statement[] = [];
    for (const raw of tree.stmts ?? []) {
      const [type, body] = Object.entries(raw.stmt ?? {})[0] ?? [];
      if (!type) continue;
      statements.push(analyzeNode(type, body as Node));
    }
    if (statements.length === 0) return { ok: false, reason: 'empty' };
    return { ok: true, statements };
  }
}

/** A PostgreSQL parser (libpg-query). Await `load()` once (the adapters do) before `analyze()`. */
export function postgresParser(): SqlParser {
  return new PostgresParser();
}
