// `npm run bench -- --scale`: the same Worker on an empty database and on one seeded with a million
// users (3 M sessions and refresh tokens, 10 M audit rows, 1 M finished mails), side by side: the API
// cases run in alternating rounds against both, and the retention cron runs on both with the same
// expired backlog. Seeding is SQL on the libSQL server (recursive CTEs), secondary indexes dropped
// while rows go in and rebuilt after, so it takes minutes.
import { createClient, type Client } from "@libsql/client/http";
import type { Statements } from "../tools/libsql-server/server.ts";
import { apiCases } from "./cases.ts";
import { runGroup, type LoadResult } from "./load.ts";
import { libsqlCounter, settle, type Counter } from "./round-trips.ts";
import type { DevWorker, Libsql } from "./stack.ts";

export const FULL_SCALE = { users: 1_000_000, sessions: 3_000_000, auditEvents: 10_000_000, outbox: 1_000_000 };
export type ScaleCounts = typeof FULL_SCALE;

/** Rows past retention, the same in both databases, so the cron has the same work on each. */
const EXPIRED = { sessions: 2_000, auditEvents: 5_000, outbox: 2_000, emailTokens: 2_000 };
const DAY = 24 * 3600_000;
const CHUNK = 500_000;
const SEEDED_TABLES = ["users", "sessions", "refresh_tokens", "audit_events", "outbox", "email_tokens"];
// Well-formed, but no password opens it: the API cases use accounts of their own.
const HASH = "$pbkdf2-sha512$i=100000,p=p1,n=nfkc$AAAAAAAAAAAAAAAAAAAAAA$" + "A".repeat(86);

export interface CronRun {
  /** Fired → the database went quiet. */
  seconds: number;
  /** Time SQLite spent in the run's statements. */
  dbMs: number;
  /** The longest the run held the write lock in one pipeline, and its slowest statement. */
  longestLockMs: number;
  slowestStatement: { sql: string; ms: number } | null;
}

export interface ScaleResult {
  counts: ScaleCounts;
  seedSeconds: number;
  databaseMiB: number | null;
  load: Array<{ name: string; empty: LoadResult; seeded: LoadResult; p50Ratio: number; reqPerSecRatio: number }>;
  cron: { empty: CronRun; seeded: CronRun; ratio: number };
}

async function insertRange(db: Client, count: number, build: (from: string, to: string) => string, log: (line: string) => void, what: string) {
  for (let start = 0; start < count; start += CHUNK) {
    const end = Math.min(count, start + CHUNK) - 1;
    await db.execute(`WITH RECURSIVE n(i) AS (SELECT ${start} UNION ALL SELECT i + 1 FROM n WHERE i < ${end}) ${build(String(start), String(end))}`);
    log(`  ${what}: ${end + 1} of ${count}`);
  }
}

/** Seeds the million-user database. The indexes the migrations made are dropped first and rebuilt after (sorting once beats a million random B-tree inserts). */
export async function seedScale(db: Client, counts: ScaleCounts, now: number, log: (line: string) => void): Promise<void> {
  const indexes = (
    await db.execute(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${SEEDED_TABLES.map((t) => `'${t}'`).join(", ")})`)
  ).rows.map((row) => ({ name: String(row.name), sql: String(row.sql) }));
  for (const index of indexes) await db.execute(`DROP INDEX "${index.name}"`);
  const user = (expr: string) => `printf('su%07d', (${expr}) % ${counts.users})`;

  await insertRange(db, counts.users, () =>
    `INSERT INTO users (id, email, name, password_hash, roles, locale, email_confirmed_at, disabled_at, created_at, updated_at)
     SELECT printf('su%07d', i), printf('scale-%07d@scale.example', i), NULL, '${HASH}', '["user"]', 'en', ${now - 60 * DAY}, NULL, ${now - 60 * DAY} + i, ${now - 60 * DAY} + i FROM n`, log, "users");
  // Live sessions of the last 20 days, one in ten revoked yesterday: nothing retention would touch.
  await insertRange(db, counts.sessions, () =>
    `INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at, revoked_reason, ip, user_agent)
     SELECT printf('ss%08d', i), ${user("i")}, ${now} - (i % 20) * ${DAY} - i % 1000, ${now + 10 * DAY},
       CASE WHEN i % 10 = 0 THEN ${now - DAY} END, CASE WHEN i % 10 = 0 THEN 'logout' END, '203.0.113.7', 'bench' FROM n`, log, "sessions");
  await insertRange(db, counts.sessions, () =>
    `INSERT INTO refresh_tokens (id, session_id, user_id, token_hash, created_at, expires_at, used_at, replaced_by)
     SELECT printf('sr%08d', i), printf('ss%08d', i), ${user("i")}, printf('%064x', i), ${now - DAY}, ${now + 10 * DAY}, NULL, NULL FROM n`, log, "refresh tokens");
  await insertRange(db, counts.auditEvents, () =>
    `INSERT INTO audit_events (id, user_id, type, ip, user_agent, created_at)
     SELECT printf('sa%09d', i), ${user("i")}, 'login_succeeded', '203.0.113.7', 'bench', ${now} - (i % 1920) * 3600000 FROM n`, log, "audit events");
  await insertRange(db, counts.outbox, () =>
    `INSERT INTO outbox (id, user_id, to_email, template, locale, payload, status, attempts, next_attempt_at, claimed_until, deadline_at, last_error, send_key, provider_id, created_at, updated_at)
     SELECT printf('so%07d', i), ${user("i")}, printf('scale-%07d@scale.example', i % ${counts.users}), 'reset-password', 'en', NULL,
       CASE i % 3 WHEN 0 THEN 'sent' ELSE 'delivered' END, 1, ${now} - (i % 20) * ${DAY}, NULL, ${now} - (i % 20) * ${DAY} + ${DAY}, NULL, NULL,
       printf('prov-%07d', i), ${now} - (i % 20) * ${DAY}, ${now} - (i % 20) * ${DAY} FROM n`, log, "outbox");

  for (const index of indexes) {
    await db.execute(index.sql);
    log(`  index ${index.name} rebuilt`);
  }
}

/** The same expired rows in either database: retention's work for one cron run. */
export async function seedExpired(db: Client, now: number): Promise<void> {
  const old = now - 40 * DAY;
  const run = (count: number, sql: string) => db.execute(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${count - 1}) ${sql}`);
  await db.execute(`INSERT OR IGNORE INTO users (id, email, password_hash, created_at, updated_at) VALUES ('xu', 'expired@scale.example', '${HASH}', ${old}, ${old})`);
  await run(EXPIRED.sessions, `INSERT INTO sessions (id, user_id, created_at, expires_at) SELECT printf('xs%06d', i), 'xu', ${old - 30 * DAY}, ${old} FROM n`);
  await run(EXPIRED.sessions, `INSERT INTO refresh_tokens (id, session_id, user_id, token_hash, created_at, expires_at) SELECT printf('xr%06d', i), printf('xs%06d', i), 'xu', printf('x%063x', i), ${old - 30 * DAY}, ${old} FROM n`);
  await run(EXPIRED.auditEvents, `INSERT INTO audit_events (id, user_id, type, created_at) SELECT printf('xa%06d', i), 'xu', 'login_failed', ${now - 100 * DAY} FROM n`);
  await run(EXPIRED.outbox, `INSERT INTO outbox (id, to_email, template, locale, status, attempts, next_attempt_at, deadline_at, created_at, updated_at) SELECT printf('xo%06d', i), 'expired@scale.example', 'reset-password', 'en', 'sent', 1, ${old}, ${old}, ${old}, ${old} FROM n`);
  await run(EXPIRED.emailTokens, `INSERT INTO email_tokens (id, user_id, purpose, token_hash, created_at, expires_at) SELECT printf('xe%06d', i), 'xu', 'reset_password', printf('e%063x', i), ${old}, ${old} FROM n`);
}

async function statements(libsql: Libsql, reset = false): Promise<Statements> {
  const res = await fetch(new URL(reset ? "statements/reset" : "statements", libsql.url), {
    method: reset ? "POST" : "GET",
    headers: { authorization: `Bearer ${libsql.authToken}` },
  });
  if (!res.ok) throw new Error(`libSQL /statements answered ${res.status}`);
  return (await res.json()) as Statements;
}

/** One cron run (the Worker's scheduled handler via wrangler's /cdn-cgi/local/scheduled), to quiet. */
async function runCron(worker: DevWorker, libsql: Libsql, counter: Counter): Promise<CronRun> {
  await settle(counter, 300);
  await statements(libsql, true);
  const fired = performance.now();
  const res = await fetch(`${worker.base}/cdn-cgi/local/scheduled?cron=*+*+*+*+*`);
  await res.body?.cancel();
  if (!res.ok) throw new Error(`/cdn-cgi/local/scheduled answered ${res.status}`);
  const quietMs = 500;
  await settle(counter, quietMs, 120_000);
  const seconds = (performance.now() - fired - quietMs) / 1000;
  const seen = await statements(libsql);
  const all = Object.values(seen.databases).flat();
  const slowest = all.reduce<{ sql: string; ms: number } | null>((a, s) => (a && a.ms >= s.maxMs ? a : { sql: s.sql, ms: s.maxMs }), null);
  return {
    seconds,
    dbMs: all.reduce((sum, s) => sum + s.totalMs, 0),
    longestLockMs: Math.max(0, ...Object.values(seen.longestLockHolds).map((h) => h.ms)),
    slowestStatement: slowest,
  };
}

export async function measureScale(opts: {
  empty: { worker: DevWorker; libsql: Libsql };
  seeded: { worker: DevWorker; libsql: Libsql };
  plan: { seconds: number; rounds: number; forgotUsers: number };
  log: (line: string) => void;
}): Promise<Pick<ScaleResult, "load" | "cron">> {
  const stacks = [opts.empty, opts.seeded].map((s) => ({ ...s, counter: libsqlCounter(s.libsql) }));
  // Retention first, before the API cases add rows of their own.
  opts.log("retention cron on the empty and the seeded database…");
  const cronEmpty = await runCron(stacks[0]!.worker, stacks[0]!.libsql, stacks[0]!.counter);
  const cronSeeded = await runCron(stacks[1]!.worker, stacks[1]!.libsql, stacks[1]!.counter);

  const run = Date.now().toString(36);
  const plan = { rounds: opts.plan.rounds, forgotUsers: opts.plan.forgotUsers, refreshConnections: 4 };
  const cases = await Promise.all(stacks.map((s) => apiCases(s.worker.base, `${run}-${s.worker.base.split(":").pop()}`, plan)));
  const kinds = [
    (c: (typeof cases)[0]) => c.login(1),
    (c: (typeof cases)[0]) => c.register(4),
    (c: (typeof cases)[0]) => c.refresh(4),
    (c: (typeof cases)[0]) => c.forgot(4),
    (c: (typeof cases)[0]) => c.events(8),
  ];
  const load: ScaleResult["load"] = [];
  for (const kind of kinds) {
    const group = stacks.map((s, i) => ({ ...kind(cases[i]!), target: { base: s.worker.base, counter: s.counter } }));
    opts.log(`  ${group[0]!.name} ×${group[0]!.connections}: empty vs seeded, ${opts.plan.seconds} s each in ${opts.plan.rounds} round(s)…`);
    const [empty, seeded] = await runGroup(stacks[0]!.worker.base, group, opts.plan.seconds, opts.plan.rounds, stacks[0]!.counter);
    load.push({ name: empty!.name, empty: empty!, seeded: seeded!, p50Ratio: seeded!.p50 / empty!.p50, reqPerSecRatio: seeded!.reqPerSec / empty!.reqPerSec });
    opts.log(`    p50 ${empty!.p50.toFixed(1)} vs ${seeded!.p50.toFixed(1)} ms (${(seeded!.p50 / empty!.p50).toFixed(2)} ×)`);
  }
  return { load, cron: { empty: cronEmpty, seeded: cronSeeded, ratio: cronSeeded.seconds / cronEmpty.seconds } };
}

export function libsqlClient(libsql: Libsql): Client {
  return createClient({ url: libsql.url, authToken: libsql.authToken });
}
