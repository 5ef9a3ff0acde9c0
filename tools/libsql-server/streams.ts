/// <reference types="node" />
// A Hrana stream: one connection, its stored SQL texts, and the execution of stream requests on it.
import type { Conn, LocalDatabase } from "./database.ts";
import { decodeValue, encodeValue, ProtoError, toHranaError, type HranaError, type SqlValue } from "./values.ts";

type Obj = Record<string, unknown>;
export type StreamResult = { type: "ok"; response: Obj } | { type: "error"; error: HranaError };

/** Told about every statement a stream runs: its SQL text and how long SQLite took. */
export type StatementObserver = (sql: string, ms: number) => void;

export class Stream {
  id: number;
  db: LocalDatabase;
  conn: Conn | null;
  sqls = new Map<number, string>();
  baton: string | null = null;
  busy = false;
  timer: NodeJS.Timeout | undefined;
  observe: StatementObserver;

  constructor(id: number, db: LocalDatabase, observe: StatementObserver = () => {}) {
    this.id = id;
    this.db = db;
    this.conn = db.acquire();
    this.observe = observe;
  }

  get closed(): boolean {
    return this.conn === null;
  }

  get inTransaction(): boolean {
    return this.conn !== null && this.conn.inTransaction;
  }

  /** Rolls back whatever is open, returns the connection and lets the next writer in. */
  close(): void {
    clearTimeout(this.timer);
    if (this.conn) this.db.release(this.conn);
    this.conn = null;
    this.db.lock.release(this);
  }

  /** Runs one request; never throws, every failure becomes an error result. */
  handle(req: unknown): StreamResult {
    const type = typeof req === "object" && req !== null ? (req as Obj).type : undefined;
    try {
      if (type === "close") {
        this.close();
        return ok({ type: "close" });
      }
      const conn = this.conn;
      if (!conn) throw new ProtoError("The stream has already been closed", "STREAM_CLOSED");
      const r = req as Obj;
      switch (type) {
        case "execute":
          return ok({ type, result: executeStmt(conn, asObj(r.stmt, "stmt"), this.sqls, this.observe) });
        case "batch":
          return ok({ type, result: executeBatch(conn, asObj(r.batch, "batch"), this.sqls, this.observe) });
        case "sequence":
          conn.exec(resolveSql(r, this.sqls));
          return ok({ type });
        case "describe":
          return ok({ type, result: describe(conn, resolveSql(r, this.sqls)) });
        case "store_sql": {
          const id = sqlId(r.sql_id);
          if (this.sqls.has(id)) throw new ProtoError(`SQL id ${id} is already in use`, "SQL_STORE_ID_IN_USE");
          if (typeof r.sql !== "string") throw new ProtoError("store_sql needs sql", "PROTO_ERROR");
          this.sqls.set(id, r.sql);
          return ok({ type });
        }
        case "close_sql":
          this.sqls.delete(sqlId(r.sql_id));
          return ok({ type });
        case "get_autocommit":
          return ok({ type, is_autocommit: !conn.inTransaction });
        default:
          throw new ProtoError(`Unknown request type ${JSON.stringify(type)}`, "PROTO_ERROR");
      }
    } catch (e) {
      return { type: "error", error: toHranaError(e) };
    }
  }
}

function ok(response: Obj): StreamResult {
  return { type: "ok", response };
}

function asObj(v: unknown, what: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ProtoError(`Expected an object for ${what}`, "PROTO_ERROR");
  return v as Obj;
}

function sqlId(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new ProtoError("sql_id must be an integer", "PROTO_ERROR");
  return v;
}

/** The SQL text of a statement-like object: inline `sql` or a stored `sql_id`. */
export function resolveSql(o: Obj, sqls: Map<number, string>): string {
  if (typeof o.sql === "string") return o.sql;
  if (o.sql_id !== undefined && o.sql_id !== null) {
    const sql = sqls.get(sqlId(o.sql_id));
    if (sql === undefined) throw new ProtoError(`SQL id ${String(o.sql_id)} is not stored on this stream`, "SQL_NOT_FOUND");
    return sql;
  }
  throw new ProtoError("A statement needs sql or sql_id", "PROTO_ERROR");
}

function bindings(stmt: Obj): SqlValue[] | Record<string, SqlValue> {
  const args = Array.isArray(stmt.args) ? stmt.args.map(decodeValue) : [];
  const named = Array.isArray(stmt.named_args) ? (stmt.named_args as Obj[]) : [];
  if (named.length === 0) return args;
  if (args.length > 0) throw new ProtoError("Mixing positional and named arguments is not supported here", "ARGS_INVALID");
  const out: Record<string, SqlValue> = {};
  // libsql binds object keys without the :, @ or $ prefix.
  for (const a of named) out[String(a.name).replace(/^[:@$]/, "")] = decodeValue(a.value);
  return out;
}

function executeStmt(conn: Conn, stmt: Obj, sqls: Map<number, string>, observe: StatementObserver): Obj {
  const sql = resolveSql(stmt, sqls);
  if (sql.trim() === "") throw new ProtoError("SQL string does not contain any statement", "SQL_NO_STATEMENT");
  const started = performance.now();
  try {
    return runStmt(conn, stmt, sql);
  } finally {
    observe(sql, performance.now() - started);
  }
}

function runStmt(conn: Conn, stmt: Obj, sql: string): Obj {
  const args = bindings(stmt);
  const prepared = conn.prepare(sql);
  const before = counters(conn)[2];
  let cols: Obj[] = [];
  let rows: unknown[][] = [];
  if (prepared.reader) {
    cols = prepared.columns().map((c) => ({ name: c.name, decltype: c.type }));
    rows = prepared.raw(true).all(args) as unknown[][];
  } else {
    prepared.run(args);
  }
  // changes() is stale after statements that change nothing (SELECT, DDL), so only trust it when the
  // running total moved; this also covers INSERT ... RETURNING, which goes through the reader path.
  const [changes, lastRowid, total] = counters(conn);
  return {
    cols,
    rows: stmt.want_rows === false ? [] : rows.map((row) => row.map(encodeValue)),
    affected_row_count: total !== before ? Number(changes) : 0,
    // As sqld: only an INSERT reports it. For anything else last_insert_rowid() is whatever this pooled
    // connection inserted last, possibly for another stream.
    last_insert_rowid: isInsertSql(sql) ? lastRowid.toString() : null,
  };
}

function counters(conn: Conn): [bigint, bigint, bigint] {
  return conn.prepare("SELECT changes(), last_insert_rowid(), total_changes()").raw(true).all()[0] as [bigint, bigint, bigint];
}

function executeBatch(conn: Conn, batch: Obj, sqls: Map<number, string>, observe: StatementObserver): Obj {
  const steps = Array.isArray(batch.steps) ? (batch.steps as unknown[]) : [];
  const results: (Obj | null)[] = [];
  const errors: (HranaError | null)[] = [];
  for (const raw of steps) {
    let result: Obj | null = null;
    let error: HranaError | null = null;
    try {
      const step = asObj(raw, "batch step");
      if (step.condition === undefined || step.condition === null || evalCond(step.condition, results, errors, conn)) {
        result = executeStmt(conn, asObj(step.stmt, "stmt"), sqls, observe);
      }
    } catch (e) {
      error = toHranaError(e);
    }
    results.push(result);
    errors.push(error);
  }
  return { step_results: results, step_errors: errors };
}

function evalCond(c: unknown, results: (Obj | null)[], errors: (HranaError | null)[], conn: Conn): boolean {
  const cond = asObj(c, "condition");
  switch (cond.type) {
    case "ok":
      return results[Number(cond.step)] != null;
    case "error":
      return errors[Number(cond.step)] != null;
    case "not":
      return !evalCond(cond.cond, results, errors, conn);
    case "and":
      return (Array.isArray(cond.conds) ? cond.conds : []).every((x) => evalCond(x, results, errors, conn));
    case "or":
      return (Array.isArray(cond.conds) ? cond.conds : []).some((x) => evalCond(x, results, errors, conn));
    case "is_autocommit":
      return !conn.inTransaction;
    default:
      throw new ProtoError(`Unknown batch condition ${JSON.stringify(cond.type)}`, "PROTO_ERROR");
  }
}

// The libsql binding exposes neither parameter names nor sqlite3_stmt_readonly, so describe is approximate.
function describe(conn: Conn, sql: string): Obj {
  const prepared = conn.prepare(sql);
  const cols = prepared.reader ? prepared.columns().map((c) => ({ name: c.name, decltype: c.type })) : [];
  const seen = new Set<string>();
  const params = (sql.match(/[:@$][A-Za-z_][A-Za-z0-9_]*|\?\d*/g) ?? [])
    .filter((p) => p === "?" || (!seen.has(p) && seen.add(p)))
    .map((p) => ({ name: p === "?" ? null : p }));
  return { params, cols, is_explain: /^\s*EXPLAIN\b/i.test(sql), is_readonly: isReadOnlySql(sql) };
}

/** Conservative: only statements that start with SELECT (or EXPLAIN) are considered unable to write. */
export function isReadOnlySql(sql: string): boolean {
  const body = sql.replace(/^(\s+|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)*/, "");
  return /^(SELECT|EXPLAIN)\b/i.test(body);
}

/** INSERT or REPLACE (in any form: `INSERT OR IGNORE`, `WITH ... INSERT`), the statements sqld gives a rowid. */
export function isInsertSql(sql: string): boolean {
  const keyword = mainKeyword(sql);
  return keyword === "INSERT" || keyword === "REPLACE";
}

const MAIN_KEYWORDS = new Set(["SELECT", "VALUES", "INSERT", "REPLACE", "UPDATE", "DELETE"]);
// Whitespace, comments, quoted strings and identifiers, a word, or any other single character.
const TOKEN = /\s+|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|[A-Za-z_][A-Za-z0-9_$]*|[\s\S]/g;

/** The first keyword of the statement, looking past comments and a leading WITH clause. */
function mainKeyword(sql: string): string {
  let depth = 0;
  let inWith = false;
  for (const [token] of sql.matchAll(TOKEN)) {
    if (token === "(") depth++;
    else if (token === ")") depth--;
    else if (depth === 0 && /^[A-Za-z_]/.test(token)) {
      const word = token.toUpperCase();
      if (!inWith && word === "WITH") inWith = true;
      // Inside the WITH clause the words outside parentheses are CTE names, AS, RECURSIVE, MATERIALIZED.
      else if (!inWith || MAIN_KEYWORDS.has(word)) return word;
    }
  }
  return "";
}
