/// <reference types="node" />
// Conformance of the local libSQL server (tools/libsql-server) against the real @libsql/client/web and drizzle.
import { createClient, LibsqlError, type Client } from "@libsql/client/web";
import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/libsql/web";
import { migrate } from "drizzle-orm/libsql/migrator";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { generateAuthToken, startLibsqlServer, type LibsqlServer, type LibsqlServerOptions } from "../../tools/libsql-server/server.ts";

// Every server here is started with this token; `client` and `post` send it unless told otherwise.
const TOKEN = generateAuthToken();
let server: LibsqlServer;
let dbCounter = 0;
const clients: Client[] = [];

function start(opts: Partial<LibsqlServerOptions> = {}): Promise<LibsqlServer> {
  return startLibsqlServer({ host: "127.0.0.1", port: 0, authToken: TOKEN, ...opts });
}

function client(url: string, extra: { intMode?: "bigint" | "number"; authToken?: string } = {}): Client {
  const c = createClient({ url, authToken: TOKEN, ...extra });
  clients.push(c);
  return c;
}
/** A client on a fresh named database. */
function freshClient(extra: { intMode?: "bigint" | "number" } = {}): Client {
  return client(server.urlFor(`t${++dbCounter}`), extra);
}

async function post(base: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(new URL("v2/pipeline", base), {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = await start();
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

describe("statements", () => {
  it("binds positional and named arguments", async () => {
    const c = freshClient();
    const pos = await c.execute({ sql: "SELECT ? AS a, ?2 AS b", args: ["x", 7] });
    expect(pos.rows[0]).toMatchObject({ a: "x", b: 7 });
    const named = await c.execute({ sql: "SELECT :a AS a, @b AS b, $c AS c", args: { a: 1, b: "two", c: null } });
    expect([named.rows[0]!.a, named.rows[0]!.b, named.rows[0]!.c]).toEqual([1, "two", null]);
    const prefixed = await c.execute({ sql: "SELECT :a AS a", args: { ":a": "p" } });
    expect(prefixed.rows[0]!.a).toBe("p");
  });

  it("reports rowsAffected and lastInsertRowid, also for RETURNING", async () => {
    const c = freshClient();
    await c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const ins = await c.execute({ sql: "INSERT INTO t (v) VALUES (?), (?), (?) RETURNING id", args: ["a", "b", "c"] });
    expect(ins.rows.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(ins.rowsAffected).toBe(3);
    expect(ins.lastInsertRowid).toBe(3n);
    const upd = await c.execute("UPDATE t SET v = 'z' WHERE id >= 2 RETURNING id");
    expect([upd.rowsAffected, upd.rows.length]).toEqual([2, 2]);
    const plain = await c.execute("DELETE FROM t WHERE id = 1");
    expect(plain.rowsAffected).toBe(1);
    const sel = await c.execute("SELECT * FROM t");
    expect([sel.rowsAffected, sel.rows.length, sel.columns]).toEqual([0, 2, ["id", "v"]]);
    expect(sel.columnTypes).toEqual(["INTEGER", "TEXT"]);
    const none = await c.execute("UPDATE t SET v = 'q' WHERE id = 99 RETURNING id");
    expect([none.rowsAffected, none.rows.length]).toEqual([0, 0]);
  });

  it.each([
    ["INSERT INTO t (v) VALUES ('a')", "1"],
    ["SELECT * FROM t", null],
    ["UPDATE t SET v = 'b'", null],
    ["REPLACE INTO t (id, v) VALUES (5, 'c')", "5"],
    ["/* a comment */ insert or ignore into t (v) values ('d')", "1"],
    ["WITH x(v) AS (SELECT 'e') INSERT INTO t (v) SELECT v FROM x", "1"],
    ["WITH \"insert\" AS (SELECT 1) SELECT * FROM \"insert\"", null],
    ["DELETE FROM t WHERE id = 1", null],
    ["CREATE TABLE u (x)", null],
  ])("reports last_insert_rowid only for INSERT and REPLACE, as sqld does: %s", async (sql, expected) => {
    // Leaves the table empty and SQLite's last_insert_rowid() at 2, so a stale value cannot pass for a new one (1).
    const setup = ["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", "INSERT INTO t (v) VALUES ('x'), ('y')", "DELETE FROM t"];
    const res = await post(server.urlFor(`rowid${++dbCounter}`), {
      requests: [...[...setup, sql].map((text) => ({ type: "execute", stmt: { sql: text } })), { type: "close" }],
    });
    expect(res.body.results.map((r: any) => r.type)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    expect(res.body.results[3].response.result.last_insert_rowid).toBe(expected);
  });

  it("does not report another stream's insert as a SELECT's last_insert_rowid", async () => {
    const base = server.urlFor("rowid-streams");
    await post(base, { requests: [{ type: "execute", stmt: { sql: "CREATE TABLE t (v TEXT)" } }, { type: "close" }] });
    const insert = await post(base, { requests: [{ type: "execute", stmt: { sql: "INSERT INTO t VALUES ('a')" } }, { type: "close" }] });
    expect(insert.body.results[0].response.result.last_insert_rowid).toBe("1");
    // A new stream; it may well get the connection the insert ran on.
    const select = await post(base, { requests: [{ type: "execute", stmt: { sql: "SELECT v FROM t" } }, { type: "close" }] });
    expect(select.body.results[0].response.result.last_insert_rowid).toBeNull();
    expect((await client(base).execute("SELECT v FROM t")).lastInsertRowid).toBeUndefined();
  });

  it("maps SQLite errors to base codes", async () => {
    const c = freshClient();
    await c.execute("CREATE TABLE u (email TEXT UNIQUE)");
    await c.execute("INSERT INTO u VALUES ('a@x')");
    const dup = await c.execute("INSERT INTO u VALUES ('a@x')").catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(LibsqlError);
    expect((dup as LibsqlError).code).toBe("SQLITE_CONSTRAINT");
    expect((dup as LibsqlError).message).toContain("UNIQUE constraint failed: u.email");
    const syntax = await c.execute("SELEC 1").catch((e: unknown) => e);
    expect((syntax as LibsqlError).code).toBe("SQLITE_ERROR");
  });

  it("round-trips big integers, floats, blobs, nulls and unicode text", async () => {
    const c = freshClient({ intMode: "bigint" });
    await c.execute("CREATE TABLE v (i INTEGER, r REAL, b BLOB, n TEXT, s TEXT)");
    const big = 2n ** 62n + 1n;
    const text = "héllo 🔐 日本語 — ünïcode ✓";
    await c.execute({ sql: "INSERT INTO v VALUES (?, ?, ?, ?, ?)", args: [big, 2.0, new Uint8Array([0, 255, 7]), null, text] });
    const row = (await c.execute("SELECT i, r, b, n, s, typeof(r) AS tr, -9223372036854775808 AS minint FROM v")).rows[0]!;
    expect(row.i).toBe(big);
    expect(row.r).toBe(2);
    expect(typeof row.r).toBe("number"); // a REAL 2.0 must not come back as the integer 2n
    expect(row.tr).toBe("real");
    expect(new Uint8Array(row.b as ArrayBuffer)).toEqual(new Uint8Array([0, 255, 7]));
    expect(row.n).toBeNull();
    expect(row.s).toBe(text);
    expect(row.minint).toBe(-(2n ** 63n));
  });
});

describe("batches and transactions", () => {
  it("commits a batch, and rolls it back entirely when a statement fails", async () => {
    const c = freshClient();
    await c.execute("CREATE TABLE t (v TEXT UNIQUE)");
    const ok = await c.batch(["INSERT INTO t VALUES ('a')", { sql: "INSERT INTO t VALUES (?)", args: ["b"] }], "write");
    expect(ok.map((r) => r.rowsAffected)).toEqual([1, 1]);
    const err = await c.batch(["INSERT INTO t VALUES ('c')", "INSERT INTO t VALUES ('a')"], "write").catch((e: unknown) => e);
    expect((err as LibsqlError).code).toBe("SQLITE_CONSTRAINT");
    const rows = await c.execute("SELECT v FROM t ORDER BY v");
    expect(rows.rows.map((r) => r.v)).toEqual(["a", "b"]);
  });

  it("commits and rolls back interactive transactions", async () => {
    const c = freshClient();
    await c.execute("CREATE TABLE t (v TEXT)");
    const tx = await c.transaction("write");
    await tx.execute("INSERT INTO t VALUES ('kept')");
    expect((await tx.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(1);
    await tx.commit();
    const tx2 = await c.transaction("write");
    await tx2.execute("INSERT INTO t VALUES ('dropped')");
    await tx2.rollback();
    expect((await c.execute("SELECT v FROM t")).rows.map((r) => r.v)).toEqual(["kept"]);
  });

  it("runs client.migrate()", async () => {
    const c = freshClient();
    await c.migrate(["CREATE TABLE a (id INTEGER PRIMARY KEY)", "CREATE TABLE b (a_id INTEGER REFERENCES a(id))"]);
    const tables = await c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    expect(tables.rows.map((r) => r.name)).toEqual(["a", "b"]);
  });

  it("lets reads proceed while another stream holds an uncommitted write", async () => {
    const c = freshClient();
    await c.execute("CREATE TABLE t (v TEXT)");
    const tx = await c.transaction("write");
    await tx.execute("INSERT INTO t VALUES ('pending')");
    const started = Date.now();
    expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);
    expect(Date.now() - started).toBeLessThan(1000);
    await tx.commit();
    expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(1);
  });

  it("serialises concurrent read-modify-write transactions", async () => {
    const c = freshClient();
    await c.execute("CREATE TABLE counter (n INTEGER)");
    await c.execute("INSERT INTO counter VALUES (0)");
    const increment = async (mode: "write" | "deferred") => {
      const tx = await c.transaction(mode);
      const n = (await tx.execute("SELECT n FROM counter")).rows[0]!.n as number;
      await sleep(20);
      await tx.execute({ sql: "UPDATE counter SET n = ?", args: [n + 1] });
      await tx.commit();
    };
    await Promise.all([increment("write"), increment("write"), increment("write"), increment("deferred"), increment("deferred")]);
    expect((await c.execute("SELECT n FROM counter")).rows[0]!.n).toBe(5);
  });
});

describe("drizzle", () => {
  const users = sqliteTable("users", {
    id: integer("id").primaryKey({ autoIncrement: true }),
    email: text("email").notNull().unique(),
    name: text("name"),
  });

  it("inserts, selects, updates, batches and runs transactions", async () => {
    const db = drizzle(freshClient());
    await db.run(sql`CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE, name TEXT)`);
    const [ann] = await db.insert(users).values({ email: "ann@x", name: "Ann" }).returning();
    expect(ann).toEqual({ id: 1, email: "ann@x", name: "Ann" });
    await db.update(users).set({ name: "Annie" }).where(eq(users.id, 1));
    expect(await db.select().from(users).where(eq(users.email, "ann@x"))).toEqual([{ id: 1, email: "ann@x", name: "Annie" }]);

    const [inserted, all] = await db.batch([db.insert(users).values({ email: "bob@x" }).returning({ id: users.id }), db.select().from(users)]);
    expect(inserted).toEqual([{ id: 2 }]);
    expect(all.map((u) => u.email)).toEqual(["ann@x", "bob@x"]);

    await db.transaction(async (tx) => {
      await tx.insert(users).values({ email: "cy@x" });
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.insert(users).values({ email: "dee@x" });
        tx.rollback();
      }),
    ).rejects.toThrow();
    await expect(db.insert(users).values({ email: "ann@x" })).rejects.toThrow();
    const emails = (await db.select({ email: users.email }).from(users)).map((u) => u.email);
    expect(emails).toEqual(["ann@x", "bob@x", "cy@x"]);
  });
});

describe("streams", () => {
  it("rolls back and releases an abandoned transaction after the idle timeout", async () => {
    const short = await start({ streamIdleMs: 300 });
    try {
      const c = client(short.urlFor("idle"));
      await c.execute("CREATE TABLE t (v TEXT)");
      const abandoned = await c.transaction("write");
      await abandoned.execute("INSERT INTO t VALUES ('abandoned')");
      const started = Date.now();
      await c.execute("INSERT INTO t VALUES ('next')"); // waits for the expiry instead of failing
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
      expect((await c.execute("SELECT v FROM t")).rows.map((r) => r.v)).toEqual(["next"]);
      await expect(abandoned.execute("SELECT 1")).rejects.toThrow(/expired/);
    } finally {
      await short.close();
    }
  });

  it("rotates batons and refuses stale or unknown ones", async () => {
    const base = server.urlFor("batons");
    const first = await post(base, { baton: null, requests: [{ type: "execute", stmt: { sql: "BEGIN" } }] });
    expect(first.status).toBe(200);
    const baton = first.body.baton as string;
    const second = await post(base, { baton, requests: [{ type: "get_autocommit" }] });
    expect(second.body.results[0].response.is_autocommit).toBe(false);
    expect(second.body.baton).not.toBe(baton);
    const stale = await post(base, { baton, requests: [] });
    expect([stale.status, stale.body.code]).toEqual([400, "STREAM_EXPIRED"]);
    const closed = await post(base, { baton: second.body.baton, requests: [{ type: "execute", stmt: { sql: "ROLLBACK" } }, { type: "close" }] });
    expect(closed.body.baton).toBeNull();
    expect((await post(base, { baton: second.body.baton, requests: [] })).status).toBe(400);
  });

  it("evaluates batch conditions and keeps going after a failed step", async () => {
    const stmt = (s: string) => ({ sql: s, args: [], named_args: [], want_rows: true });
    const res = await post(server.urlFor("conds"), {
      requests: [
        {
          type: "batch",
          batch: {
            steps: [
              { stmt: stmt("SELECT 1") },
              { stmt: stmt("SELECT * FROM missing") },
              { stmt: stmt("SELECT 2"), condition: { type: "error", step: 1 } },
              { stmt: stmt("SELECT 3"), condition: { type: "ok", step: 1 } },
              { stmt: stmt("SELECT 4"), condition: { type: "and", conds: [{ type: "ok", step: 0 }, { type: "not", cond: { type: "ok", step: 1 } }] } },
              { stmt: stmt("SELECT 5"), condition: { type: "or", conds: [{ type: "ok", step: 3 }, { type: "is_autocommit" }] } },
            ],
          },
        },
        { type: "close" },
      ],
    });
    const { step_results, step_errors } = res.body.results[0].response.result;
    expect(step_results.map((r: any) => r?.rows[0][0].value ?? null)).toEqual(["1", null, "2", null, "4", "5"]);
    expect(step_errors.map((e: any) => e?.code ?? null)).toEqual([null, "SQLITE_ERROR", null, null, null, null]);
  });

  it("supports stored SQL, describe, sequence and the v3 pipeline, and survives bad input", async () => {
    const base = server.urlFor("proto");
    const res = await post(base, {
      requests: [
        { type: "sequence", sql: "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (41);" },
        { type: "store_sql", sql_id: 1, sql: "SELECT x + ? AS y FROM t" },
        { type: "execute", stmt: { sql_id: 1, args: [{ type: "integer", value: "1" }] } },
        { type: "describe", sql: "SELECT x FROM t WHERE x = :x" },
        { type: "close_sql", sql_id: 1 },
        { type: "execute", stmt: { sql_id: 1 } },
        { type: "no_such_request" },
        { type: "close" },
      ],
    });
    const r = res.body.results;
    expect(r.map((x: any) => x.type)).toEqual(["ok", "ok", "ok", "ok", "ok", "error", "error", "ok"]);
    expect(r[2].response.result.rows).toEqual([[{ type: "integer", value: "42" }]]);
    expect(r[3].response.result).toMatchObject({ params: [{ name: ":x" }], cols: [{ name: "x" }], is_readonly: true });
    const v3 = await fetch(new URL("v3/pipeline", base), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ requests: [{ type: "execute", stmt: { sql: "SELECT x FROM t" } }, { type: "close" }] }),
    });
    expect(((await v3.json()) as any).results[0].response.result.rows).toEqual([[{ type: "integer", value: "41" }]]);
    const bad = await post(base, "{not json");
    expect([bad.status, typeof bad.body.message]).toEqual([400, "string"]);
    expect((await post(base, { requests: "nope" })).status).toBe(400);
    expect((await client(base).execute("SELECT 1 AS one")).rows[0]!.one).toBe(1); // still serving
  });
});

// The threat: any web page open in the developer's browser can send requests to 127.0.0.1, e.g. a
// CORS "simple request" (POST with a text/plain body, no custom headers, no preflight).
describe("who may run SQL", () => {
  const pipelineBody = (sql: string) => JSON.stringify({ requests: [{ type: "execute", stmt: { sql } }, { type: "close" }] });
  const tables = async (name: string) =>
    (await client(server.urlFor(name)).execute("SELECT name FROM sqlite_master WHERE type = 'table'")).rows.map((r) => r.name);

  it.each([
    ["no Authorization header", {}],
    ["a wrong token", { authorization: `Bearer ${generateAuthToken()}` }],
    ["a token that is a prefix of the right one", { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ["the token without the Bearer scheme", { authorization: TOKEN }],
  ])("answers 401 in sqld's error shape, and runs nothing, for %s", async (_, headers: Record<string, string>) => {
    const res = await fetch(new URL("v2/pipeline", server.urlFor("no-token")), {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: pipelineBody("CREATE TABLE intruder (x)"),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ error: expect.stringMatching(/Authorization: Bearer/) });
    expect(await tables("no-token")).toEqual([]);
  });

  it("refuses the real client with a wrong token and serves it with the right one", async () => {
    await expect(client(server.url, { authToken: "wrong" }).execute("SELECT 1")).rejects.toThrow(/401/);
    expect((await client(server.url).execute("SELECT 1 AS one")).rows[0]!.one).toBe(1);
  });

  it.each([
    ["text/plain", { "content-type": "text/plain" }],
    ["no content type", {}],
    ["form data", { "content-type": "application/x-www-form-urlencoded" }],
  ])("answers 415 to a pipeline sent as %s, even with the token, and runs nothing", async (_, headers: Record<string, string>) => {
    const res = await fetch(new URL("v2/pipeline", server.urlFor("not-json")), {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      body: pipelineBody("CREATE TABLE intruder (x)"),
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/application\/json/) });
    expect(await tables("not-json")).toEqual([]);
  });

  it("accepts application/json with a charset", async () => {
    const res = await post(server.urlFor("charset"), pipelineBody("SELECT 1"), { "content-type": "application/json; charset=utf-8" });
    expect([res.status, res.body.results[0].type]).toEqual([200, "ok"]);
  });

  it("grants no CORS preflight", async () => {
    const res = await fetch(new URL("v2/pipeline", server.url), {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(res.ok).toBe(false);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("holds for the test run's shared server too (test/global-setup.ts)", async () => {
    const base = inject("libsqlBaseUrl");
    const without = await fetch(new URL("v2/pipeline", base), { method: "POST", headers: { "content-type": "application/json" }, body: pipelineBody("SELECT 1") });
    expect(without.status).toBe(401);
    const res = await client(base, { authToken: inject("libsqlAuthToken") }).execute("SELECT 1 AS one");
    expect(res.rows[0]!.one).toBe(1);
  });

  it("the CLI generates a token and prints it once, unless told to run without one", async () => {
    const generated = await runCli([]);
    try {
      expect(generated.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await post(generated.url, pipelineBody("SELECT 1"), { authorization: "" })).status).toBe(401);
      expect((await client(generated.url, { authToken: generated.token! }).execute("SELECT 1 AS one")).rows[0]!.one).toBe(1);
    } finally {
      await generated.stop();
    }
    const open = await runCli(["--no-auth"]);
    try {
      expect(open.token).toBeNull();
      expect((await client(open.url, { authToken: undefined }).execute("SELECT 1 AS one")).rows[0]!.one).toBe(1);
      const plain = await fetch(new URL("v2/pipeline", open.url), { method: "POST", headers: { "content-type": "text/plain" }, body: pipelineBody("SELECT 1") });
      expect(plain.status).toBe(415); // still no way in for a simple request from a web page
    } finally {
      await open.stop();
    }
  });
});

/** Runs tools/libsql-server/cli.ts on a free port and reads the URL and the token it prints. */
async function runCli(args: string[]) {
  const cli = join(import.meta.dirname, "../../tools/libsql-server/cli.ts");
  const child = spawn(process.execPath, [cli, "--port", "0", "--quiet", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
  };
  let output = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the CLI did not start: ${output}`)), 10_000);
      child.once("exit", (code) => reject(new Error(`the CLI exited with ${code}: ${output}`)));
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        // The token line comes before this one.
        if (/listening on \S+.*\n/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
  const tokens = [...output.matchAll(/^auth token: (\S+)$/gm)].map((m) => m[1]!);
  expect(tokens.length).toBeLessThanOrEqual(1);
  return { url, token: tokens[0] ?? null, stop };
}

describe("server features", () => {
  it("answers GET /v2 but not GET /v3, so a client probing for v3 (and its /v3/cursor) falls back to v2", async () => {
    for (const base of [server.url, server.urlFor("probe")]) {
      expect((await fetch(new URL("v2", base))).status).toBe(200);
      expect((await fetch(new URL("v3", base))).status).toBe(404);
    }
  });

  it("counts pipelines per database in /stats", async () => {
    const own = await start();
    try {
      await client(own.url).execute("SELECT 1");
      const reset = (authorization: string) => fetch(new URL("stats/reset", own.url), { method: "POST", headers: { authorization } });
      expect((await reset("")).status).toBe(401); // only readable without the token
      expect((await fetch(new URL("stats", own.url))).status).toBe(200);
      expect(own.stats().pipelines).toBe(1);
      expect((await reset(`Bearer ${TOKEN}`)).status).toBe(200);
      const named = client(own.urlFor("stats-a"));
      await named.execute("SELECT 1");
      await named.execute("SELECT 2");
      await client(own.url).execute("SELECT 3");
      await named.batch(["CREATE TABLE t (x)", "INSERT INTO t VALUES (1)", "SELECT x FROM t", "UPDATE t SET x = 2"], "write");
      const stats = await (await fetch(new URL("stats", own.url))).json();
      // Writes count the statements that may write, not the reads nor the batch's BEGIN/COMMIT.
      expect(stats).toEqual({ pipelines: 4, databases: { "stats-a": 3, default: 1 }, writes: { "stats-a": 3, default: 0 } });
      expect(own.stats()).toEqual(stats);
    } finally {
      await own.close();
    }
  });

  it("lists each distinct statement per database with its count and time, and the longest write-lock hold, behind the token", async () => {
    const own = await start();
    try {
      const named = client(own.urlFor("plans-a"));
      await named.execute("CREATE TABLE t (x)");
      await named.execute({ sql: "INSERT INTO t VALUES (?)", args: [1] });
      await named.execute({ sql: "INSERT INTO t VALUES (?)", args: [2] });
      await named.batch(["UPDATE t SET x = x + 1", "SELECT x FROM t"], "write");
      const get = (authorization: string) => fetch(new URL("statements", own.url), { headers: { authorization } });
      expect((await get("")).status).toBe(401);
      const listed = (await (await get(`Bearer ${TOKEN}`)).json()) as import("../../tools/libsql-server/server.ts").Statements;
      const texts = listed.databases["plans-a"]!.map((s) => [s.sql, s.count]);
      expect(texts).toEqual(expect.arrayContaining([["CREATE TABLE t (x)", 1], ["INSERT INTO t VALUES (?)", 2], ["UPDATE t SET x = x + 1", 1], ["SELECT x FROM t", 1]]));
      // Arguments are never kept: only the texts.
      expect(JSON.stringify(listed)).not.toMatch(/"args"/);
      expect(listed.longestLockHolds["plans-a"]!.ms).toBeGreaterThanOrEqual(0);
      expect(listed.longestLockHolds["plans-a"]!.sqls.length).toBeGreaterThan(0);
      expect(own.statements()).toEqual(listed);

      const reset = await fetch(new URL("statements/reset", own.url), { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
      expect(await reset.json()).toEqual({ databases: {}, longestLockHolds: {} });
    } finally {
      await own.close();
    }
  });

  it("keeps named databases independent", async () => {
    const a = client(server.urlFor("indep-a"));
    const b = client(server.urlFor("indep-b"));
    await a.execute("CREATE TABLE t (v TEXT)");
    await b.execute("CREATE TABLE t (v TEXT)");
    await a.execute("INSERT INTO t VALUES ('only in a')");
    expect((await b.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);
    await expect(client(server.url).execute("SELECT * FROM t")).rejects.toThrow(/no such table/);
  });

  it("applies drizzle-kit migrations to new named databases, compatibly with drizzle's migrator", async () => {
    const dir = mkdtempSync(join(tmpdir(), "libsql-migrations-"));
    const migrated = await start({ migrationsDir: dir });
    try {
      const early = client(migrated.urlFor("before"));
      expect((await early.execute("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'")).rows[0]!.n).toBe(0);

      const files = {
        "0000_first": "CREATE TABLE a (id INTEGER PRIMARY KEY);\n--> statement-breakpoint\nCREATE TABLE b (a_id INTEGER REFERENCES a(id));\n",
        "0001_second": "ALTER TABLE a ADD COLUMN name TEXT;\n",
      };
      mkdirSync(join(dir, "meta"));
      const entries = Object.keys(files).map((tag, idx) => ({ idx, version: "6", when: 1700000000000 + idx, tag, breakpoints: true }));
      writeFileSync(join(dir, "meta", "_journal.json"), JSON.stringify({ version: "7", dialect: "sqlite", entries }));
      for (const [tag, body] of Object.entries(files)) writeFileSync(join(dir, `${tag}.sql`), body);

      const fresh = client(migrated.urlFor("after"));
      await fresh.execute("INSERT INTO a (id, name) VALUES (1, 'x')");
      await fresh.execute("INSERT INTO b VALUES (1)");
      const recorded = await fresh.execute("SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at");
      expect(recorded.rows.map((r) => [r.hash, r.created_at])).toEqual(
        Object.entries(files).map(([, body], i) => [createHash("sha256").update(body).digest("hex"), 1700000000000 + i]),
      );
      await migrate(drizzle(fresh), { migrationsFolder: dir }); // nothing pending: must not re-run CREATE TABLE
      expect((await fresh.execute("SELECT count(*) AS n FROM __drizzle_migrations")).rows[0]!.n).toBe(2);
      await expect(early.execute("SELECT * FROM a")).rejects.toThrow(/no such table/);
    } finally {
      await migrated.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
