/// <reference types="node" />
// A local stand-in for sqld / `turso dev`: Hrana over HTTP (JSON, protocol v2, plus the v3 pipeline) on
// the libSQL engine.
//
// Who may talk to it: anything that can reach the port, including every web page open in the
// developer's browser (a page may POST to http://127.0.0.1:PORT/ as a CORS "simple request" with a
// text/plain body and no preflight). So every POST must carry the bearer token (a page cannot add an
// Authorization header without a preflight, which this server never grants) and a pipeline must be
// `Content-Type: application/json` (which a page cannot send without a preflight either).
//
// URLs: the default database is at `url` (http://HOST:PORT/); named databases are at
// http://HOST:PORT/db/NAME/ — the trailing slash matters, because the client resolves "v2/pipeline"
// relative to the URL it is given.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LocalDatabase } from "./database.ts";
import { isReadOnlySql, resolveSql, Stream, type StreamResult } from "./streams.ts";
import { toHranaError } from "./values.ts";

export interface LibsqlServerOptions {
  host?: string;
  port?: number;
  file?: string;
  dataDir?: string;
  /** The bearer token every POST must carry (see generateAuthToken); null only when asked for explicitly. */
  authToken: string | null;
  streamIdleMs?: number;
  migrationsDir?: string;
  log?: (line: string) => void;
}

export interface Stats {
  pipelines: number;
  databases: Record<string, number>;
  /** Statements that may write (not reads, not BEGIN/COMMIT/ROLLBACK), per database. */
  writes: Record<string, number>;
}

/** Each distinct SQL text a database has run (arguments are never kept), with how often and how long. */
export interface StatementStats {
  sql: string;
  count: number;
  maxMs: number;
  totalMs: number;
}

/** The longest a pipeline held a database's write lock, and the statements it ran meanwhile. */
export interface LockHold {
  ms: number;
  sqls: string[];
}

export interface Statements {
  databases: Record<string, StatementStats[]>;
  longestLockHolds: Record<string, LockHold>;
}

export interface LibsqlServer {
  url: string;
  port: number;
  urlFor(name: string): string;
  stats(): Stats;
  statements(): Statements;
  close(): Promise<void>;
}

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_BODY_BYTES = 32 * 1024 * 1024;

type Obj = Record<string, unknown>;

/** 32 random bytes, base64url: a fresh token for each start, handed to the Worker as DB_AUTH_TOKEN. */
export function generateAuthToken(): string {
  return randomBytes(32).toString("base64url");
}

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/** Answered as Hrana's `{message, code}` when it has a code, else as sqld's plain `{error}` (401, 415). */
class HttpError extends Error {
  status: number;
  code: string | undefined;
  constructor(status: number, message: string, code?: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function startLibsqlServer(opts: LibsqlServerOptions): Promise<LibsqlServer> {
  if (opts.authToken === "") throw new Error("authToken must not be empty; pass null to run without a token");
  // Compared as SHA-256 digests: equal lengths for timingSafeEqual, and the time taken says nothing
  // about how much of the token a guess got right.
  const expectedToken = opts.authToken === null ? null : sha256(opts.authToken);
  const log = opts.log ?? (() => {});
  const idleMs = opts.streamIdleMs ?? 10_000;
  // Longer than a stream's idle expiry, so a writer queued behind an abandoned transaction always gets in.
  const lockWaitMs = Math.max(5_000, idleMs + 1_000);
  const tempDir = mkdtempSync(join(tmpdir(), "libsql-server-"));
  const migrationsDir = opts.migrationsDir ? resolve(opts.migrationsDir) : undefined;
  const databases = new Map<string, LocalDatabase>();
  const batons = new Map<string, Stream>();
  const streams = new Set<Stream>();
  let stats: Stats = { pipelines: 0, databases: {}, writes: {} };
  // For the query-plan test and the scale bench: which statements ran, and how long the write lock
  // was held. Reset with POST /statements/reset.
  let statements = new Map<string, Map<string, StatementStats>>();
  let lockHolds = new Map<string, LockHold>();
  const observer = (dbName: string, ran: string[]) => (text: string, ms: number) => {
    ran.push(text);
    let byText = statements.get(dbName);
    if (!byText) statements.set(dbName, (byText = new Map()));
    const seen = byText.get(text) ?? { sql: text, count: 0, maxMs: 0, totalMs: 0 };
    seen.count++;
    seen.maxMs = Math.max(seen.maxMs, ms);
    seen.totalMs += ms;
    byText.set(text, seen);
  };
  let nextStreamId = 1;
  let closing = false;

  const defaultPath = opts.file ? resolve(opts.file) : join(tempDir, "default.db");
  databases.set("default", new LocalDatabase("default", defaultPath, !opts.file, migrationsDir, log));

  function database(name: string): LocalDatabase {
    let db = databases.get(name);
    if (!db) {
      const path = opts.dataDir ? join(resolve(opts.dataDir), `${name}.db`) : join(tempDir, `${name}.db`);
      db = new LocalDatabase(name, path, !opts.dataDir, migrationsDir, log);
      databases.set(name, db);
      log(`database ${name}: opened ${opts.dataDir ? path : "(in memory)"}`);
    }
    return db;
  }

  function expire(stream: Stream): void {
    if (stream.busy || stream.closed) return;
    const rolledBack = stream.inTransaction;
    forget(stream);
    stream.close();
    log(`stream ${stream.id} on ${stream.db.name} expired${rolledBack ? ", rolled back its open transaction" : ""}`);
  }

  function forget(stream: Stream): void {
    if (stream.baton) batons.delete(stream.baton);
    streams.delete(stream);
  }

  /** How many statements of the pipeline may write (what the bench reports as writes per request). */
  function countWrites(stream: Stream, requests: unknown[]): number {
    const sqls = new Map(stream.sqls);
    const writes = (stmt: unknown): number => {
      try {
        const sql = resolveSql(stmt as Obj, sqls);
        return isReadOnlySql(sql) || /^\s*(BEGIN|COMMIT|END|ROLLBACK)\b/i.test(sql) ? 0 : 1;
      } catch {
        return 0;
      }
    };
    let count = 0;
    for (const req of requests) {
      const r = (typeof req === "object" && req !== null ? req : {}) as Obj;
      if (r.type === "store_sql" && typeof r.sql === "string" && typeof r.sql_id === "number") sqls.set(r.sql_id, r.sql);
      else if (r.type === "execute") count += writes(r.stmt);
      else if (r.type === "batch") {
        const steps = (r.batch as Obj | undefined)?.steps;
        if (Array.isArray(steps)) for (const s of steps) count += writes((s as Obj | null)?.stmt);
      }
    }
    return count;
  }

  /** Whether the pipeline may write (or open a transaction) and so must hold the database's write lock. */
  function needsLock(stream: Stream, requests: unknown[]): boolean {
    const sqls = new Map(stream.sqls);
    const mayWrite = (stmt: unknown): boolean => {
      try {
        return !isReadOnlySql(resolveSql(stmt as Obj, sqls));
      } catch {
        return false; // the request will fail on its own
      }
    };
    for (const req of requests) {
      const r = (typeof req === "object" && req !== null ? req : {}) as Obj;
      if (r.type === "store_sql" && typeof r.sql === "string" && typeof r.sql_id === "number") sqls.set(r.sql_id, r.sql);
      else if (r.type === "execute" && mayWrite(r.stmt)) return true;
      else if (r.type === "batch") {
        const steps = (r.batch as Obj | undefined)?.steps;
        if (Array.isArray(steps) && steps.some((s) => mayWrite((s as Obj | null)?.stmt))) return true;
      } else if (r.type === "sequence") return true;
    }
    return false;
  }

  function authorize(req: IncomingMessage): void {
    if (expectedToken === null) return;
    const given = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? "")?.[1];
    if (given === undefined || !timingSafeEqual(sha256(given), expectedToken)) {
      throw new HttpError(401, "Unauthorized: a valid `Authorization: Bearer <token>` header is required");
    }
  }

  async function pipeline(req: IncomingMessage, res: ServerResponse, dbName: string): Promise<void> {
    const type = req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json") {
      throw new HttpError(415, "Unsupported media type: send the pipeline as `Content-Type: application/json`");
    }
    stats.pipelines++;
    stats.databases[dbName] = (stats.databases[dbName] ?? 0) + 1;
    let body: Obj;
    try {
      body = JSON.parse(await readBody(req)) as Obj;
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, "Request body is not valid JSON", "PROTO_ERROR");
    }
    if (typeof body !== "object" || body === null || !Array.isArray(body.requests)) {
      throw new HttpError(400, "Expected a JSON object with a `requests` array", "PROTO_ERROR");
    }
    if (closing) throw new HttpError(503, "Server is shutting down", "SERVER_CLOSED");
    const requests = body.requests as unknown[];

    let stream: Stream;
    if (body.baton !== undefined && body.baton !== null) {
      const found = typeof body.baton === "string" ? batons.get(body.baton) : undefined;
      if (!found) throw new HttpError(400, "Unknown baton: the stream has expired or was closed", "STREAM_EXPIRED");
      if (found.db.name !== dbName) throw new HttpError(400, "The baton belongs to another database", "PROTO_ERROR");
      stream = found;
    } else {
      stream = new Stream(nextStreamId++, database(dbName));
      streams.add(stream);
    }
    // Each baton is good for exactly one request; the response carries the next one.
    if (stream.baton) batons.delete(stream.baton);
    stream.baton = null;
    stream.busy = true;
    clearTimeout(stream.timer);

    stats.writes[dbName] = (stats.writes[dbName] ?? 0) + countWrites(stream, requests);
    let results: StreamResult[];
    const ran: string[] = [];
    stream.observe = observer(dbName, ran);
    let lockedAt: number | null = null;
    try {
      if (needsLock(stream, requests)) {
        const held = stream.db.lock.owner === stream;
        await stream.db.lock.acquire(stream, lockWaitMs);
        if (!held) lockedAt = performance.now();
      }
      results = requests.map((r) => stream.handle(r));
    } catch (e) {
      results = requests.map(() => ({ type: "error", error: toHranaError(e) }));
      if (requests.some((r) => (r as Obj | null)?.type === "close")) stream.close();
    } finally {
      stream.busy = false;
    }
    if (!stream.inTransaction) {
      stream.db.lock.release(stream);
      // A hold that began and ended in this pipeline (an interactive transaction spans several).
      const ms = lockedAt === null ? 0 : performance.now() - lockedAt;
      if (lockedAt !== null && ms > (lockHolds.get(dbName)?.ms ?? -1)) lockHolds.set(dbName, { ms, sqls: ran });
    }

    let baton: string | null = null;
    if (stream.closed || closing) {
      forget(stream);
      stream.close();
    } else {
      baton = `${stream.id}.${randomBytes(16).toString("base64url")}`;
      stream.baton = baton;
      batons.set(baton, stream);
      stream.timer = setTimeout(() => expire(stream), idleMs);
      stream.timer.unref();
    }
    sendJson(res, 200, { baton, base_url: null, results });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === "POST") authorize(req);
    const url = new URL(req.url ?? "/", "http://localhost");
    const named = /^\/db\/([^/]+)(\/.*)?$/.exec(url.pathname);
    const dbName = named ? decodeURIComponent(named[1]!) : "default";
    const path = named ? (named[2] ?? "/") : url.pathname;
    if (named && !NAME_PATTERN.test(dbName)) throw new HttpError(400, "Database names are 1-64 of [A-Za-z0-9_-]", "PROTO_ERROR");
    if (named && /^v\d$/.test(dbName) && path === "/pipeline") {
      throw new HttpError(404, "Named database URLs need a trailing slash: http://HOST:PORT/db/NAME/", "NOT_FOUND");
    }
    const method = req.method ?? "GET";
    if (method === "POST" && (path === "/v2/pipeline" || path === "/v3/pipeline")) return pipeline(req, res, dbName);
    req.resume();
    // No `GET /v3`: a client that finds it may send batches to `POST /v3/cursor`, which is not
    // implemented here; a 404 makes such clients fall back to v2. (@libsql/client 0.18 does not probe
    // and speaks v2.) The v3 pipeline itself is served for clients that name it directly.
    if (method === "GET" && ["/", "/health", "/v2"].includes(path)) return sendText(res, 200, "");
    // Open without the token: it reveals request counts only.
    if (!named && method === "GET" && path === "/stats") return sendJson(res, 200, stats);
    if (!named && method === "POST" && path === "/stats/reset") {
      stats = { pipelines: 0, databases: {}, writes: {} };
      return sendJson(res, 200, stats);
    }
    // SQL texts are no secret, but nothing else here needs to be open: both take the token.
    if (!named && method === "GET" && path === "/statements") {
      authorize(req);
      return sendJson(res, 200, statementsNow());
    }
    if (!named && method === "POST" && path === "/statements/reset") {
      statements = new Map();
      lockHolds = new Map();
      return sendJson(res, 200, statementsNow());
    }
    throw new HttpError(404, `Not found: ${method} ${url.pathname}`, "NOT_FOUND");
  }

  function statementsNow(): Statements {
    return {
      databases: Object.fromEntries([...statements].map(([name, byText]) => [name, [...byText.values()]])),
      longestLockHolds: Object.fromEntries(lockHolds),
    };
  }

  const server = createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      req.resume(); // drop an unread body
      if (e instanceof HttpError) {
        return sendJson(res, e.status, e.code === undefined ? { error: e.message } : { message: e.message, code: e.code });
      }
      const error = toHranaError(e);
      log(`internal error on ${req.method} ${req.url}: ${error.message}`);
      sendJson(res, 500, { message: error.message, code: "INTERNAL_ERROR" });
    });
  });
  // Node closes a kept-alive connection after 5 s idle by default; a client that sends on it just
  // then gets a reset (workerd keeps idle connections longer), which the Worker reports as the
  // database unavailable. Idle connections live a minute here, as behind most load balancers.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 8080, opts.host ?? "127.0.0.1", () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  const host = !opts.host || opts.host === "0.0.0.0" || opts.host === "::" ? "127.0.0.1" : opts.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/`;

  return {
    url,
    port,
    urlFor(name: string): string {
      if (!NAME_PATTERN.test(name)) throw new Error(`Invalid database name ${JSON.stringify(name)}: use 1-64 of [A-Za-z0-9_-]`);
      return `${url}db/${name}/`;
    },
    stats: () => structuredClone(stats),
    statements: () => structuredClone(statementsNow()),
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      for (const stream of [...streams]) {
        forget(stream);
        stream.close();
      }
      for (const db of databases.values()) db.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
      rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, "Request body too large", "PROTO_ERROR"));
        chunks.length = 0;
      } else chunks.push(chunk);
    });
    req.on("end", () => resolveBody(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

// Exactly "application/json": the client only parses error bodies whose content type matches it verbatim.
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
