// `npm run bench` [-- --smoke]: what a request costs, measured in one run on a fresh local stack.
// See bench/README.md. Sends traffic to 127.0.0.1 only; stops everything it started, also on error.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem, type } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { settingNames } from "../src/config.ts";
import { call, PASSWORD, registerConfirmed } from "./api.ts";
import { apiCases } from "./cases.ts";
import { buildBundle, profileStartup } from "./bundle.ts";
import { measureColdStarts, median } from "./cold-start.ts";
import { measureDrain } from "./drain.ts";
import { measureMixed } from "./mixed.ts";
import { runGroup, type LoadCase, type LoadResult } from "./load.ts";
import { formatResults, formatScale, judge, type Machine, type Results } from "./report.ts";
import { FULL_SCALE, libsqlClient, measureScale, seedExpired, seedScale, type ScaleCounts, type ScaleResult } from "./scale.ts";
import { startDbGate } from "./db-gate.ts";
import { countRoundTrips, libsqlCounter } from "./round-trips.ts";
import { generateWebhookSecret } from "../src/lib/crypto/webhook-secrets.ts";
import { startWebhookStandIn } from "../tools/webhook-stand-in/server.ts";
import { generateSecrets, startLibsql, startWorker, stopEverything, wranglerCommand, type DevWorker, type Libsql } from "./stack.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const { values: args } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    scale: { type: "boolean", default: false },
    // e.g. 0.01 for a quick try of --scale with 10,000 users
    "scale-factor": { type: "string", default: "1" },
  },
});
const smoke = args.smoke || process.env.BENCH_SMOKE === "1";
const plan = smoke
  ? { seconds: 1, rounds: 1, warmupSeconds: 0.5, trials: 1, forgotUsers: 4, coldTrials: 1, startupProfiles: 3, drainMails: 300, mixed: { users: 5, seconds: 5 } }
  : { seconds: 5, rounds: 5, warmupSeconds: 1, trials: 2, forgotUsers: 10, coldTrials: 3, startupProfiles: 7, drainMails: 10_000, mixed: { users: 50, seconds: 120 } };

// Limits that a loop of logins, registrations and forgot calls from one machine would trip (the load
// also sends a different CF-Connecting-IP per request), and no lookups on the internet. Only settings
// this Worker knows are sent.
const BENCH_SETTINGS: Record<string, string> = {
  MAIL_PER_ADDRESS_PER_HOUR: "100",
  PWNED_PASSWORDS_CHECK: "false",
};

function machine(before: number[]): Machine {
  const wrangler = execFileSync(...wranglerCommand(["--version"]), { encoding: "utf8" }).trim().split(/\s+/).pop() ?? "?";
  const model = /^model name\s*:\s*(.+)$/m.exec(safeRead("/proc/cpuinfo"))?.[1] ?? cpus()[0]?.model ?? "unknown CPU";
  return {
    nproc: availableParallelism(),
    cpu: model.trim(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    wrangler,
    loadAverageBefore: before,
    loadAverageAfter: loadavg(),
  };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Groups of cases; the cases of a group are compared, so they run in alternating rounds. */
async function loadGroups(base: string, run: string): Promise<LoadCase[][]> {
  const api = await apiCases(base, run, { rounds: plan.rounds, forgotUsers: plan.forgotUsers, refreshConnections: 4 });
  const hash = (connections: number): LoadCase => ({ name: "one hash derivation (GET /bench/hash)", connections, request: { path: "/bench/hash" } });
  return [
    [
      { name: "plain Hono route, no middleware (GET /bench/plain)", connections: 8, request: { path: "/bench/plain" } },
      { name: "bare route (GET /bench/bare)", connections: 8, request: { path: "/bench/bare" } },
      { name: "GET /v1/me", connections: 8, request: { path: "/v1/me", headers: { authorization: `Bearer ${api.session.access_token}` } } },
    ],
    // Login = one hash + its libSQL round trips + the rest; /bench/db is the bare route plus one
    // round trip (select 1), so these four say what the difference is made of.
    [
      hash(1),
      api.login(1),
      { name: "bare route (GET /bench/bare)", connections: 1, request: { path: "/bench/bare" } },
      { name: "one libSQL round trip (GET /bench/db)", connections: 1, request: { path: "/bench/db" } },
    ],
    [api.refresh(4)],
    [api.register(4)],
    [api.forgot(4)],
  ];
}

function findCase(load: LoadResult[], name: string, connections: number): LoadResult {
  const found = load.find((l) => l.name.includes(name) && l.connections === connections);
  if (!found) throw new Error(`no load case ${name} with ${connections} connections`);
  return found;
}

async function main(): Promise<number> {
  const before = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "edge-auth-bench-"));
  const running: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    while (running.length > 0) await running.pop()!().catch(() => {});
  };
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    void stopAll()
      .then(stopEverything)
      .finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let failed = false;
  const phases: Record<string, number> = {};
  let phaseStarted = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = Math.round((now - phaseStarted) / 100) / 10;
    phaseStarted = now;
  };
  try {
    if (args.scale) {
      await scaleBench(dir, running, phase, phases, before);
      return 0;
    }
    console.log(`bench (${smoke ? "smoke" : "full"}): building the bundle…`);
    const bundle = await buildBundle(join(dir, "dist"));
    const profile = await profileStartup(join(dir, "startup.cpuprofile"), plan.startupProfiles);
    phase("bundle and startup profile");

    console.log("starting the libSQL server on a fresh database…");
    const libsql = await startLibsql(dir);
    running.push(libsql.stop);
    const raised = Object.fromEntries(Object.entries(BENCH_SETTINGS).filter(([name]) => settingNames().includes(name)));
    const settings = { ...(await generateSecrets()), ...raised };
    const worker = (name: string, dbUrl: string, extra: { cold?: boolean; settings?: Record<string, string> } = {}) =>
      startWorker({ dir, name, bundle: bundle.path, dbUrl, dbAuthToken: libsql.authToken, settings: { ...settings, ...extra.settings }, cold: extra.cold });

    // Round trips are counted through the gate, on a Worker of their own; the load runs without it.
    // That Worker has one webhook endpoint (a local receiver verifying every message), so the counts
    // include emitting and delivering events; the endpoints that emit are counted again on a Worker
    // without one, which is how "an event adds no round trip to the response" is measured.
    console.log("counting libSQL requests per endpoint…");
    const gate = await startDbGate(libsql.url);
    running.push(gate.close);
    const receivers = await startWebhookStandIn();
    running.push(receivers.close);
    const secret = generateWebhookSecret();
    receivers.receivers.register("bench", secret);
    const webhookRequests = () => receivers.receivers.requests("bench")?.length ?? 0;
    const endpoints = JSON.stringify([{ url: `${receivers.url}/hooks/bench`, secret }]);
    const counting: DevWorker = await startWorker({ dir, name: "round-trips", bundle: bundle.path, dbUrl: gate.url, dbAuthToken: libsql.authToken, settings: { ...settings, WEBHOOK_ENDPOINTS: endpoints } });
    running.push(counting.stop);
    const roundTrips = await countRoundTrips(counting.base, libsql, gate, plan.trials, { webhookRequests });
    await running.pop()!();
    const refused = receivers.receivers.requests("bench")!.filter((r) => r.verdict !== "accepted");
    if (refused.length > 0) throw new Error(`the webhook receiver refused ${refused.length} message(s): ${refused[0]!.reason}`);
    const emitting = roundTrips.filter((t) => t.webhooks > 0).map((t) => t.endpoint);
    const silent: DevWorker = await worker("round-trips-without-webhooks", gate.url);
    running.push(silent.stop);
    const withoutWebhooks = await countRoundTrips(silent.base, libsql, gate, plan.trials, { only: emitting });
    await running.pop()!();
    await running.pop()!();
    await running.pop()!();
    phase("round trips");

    console.log("starting wrangler dev for the load cases…");
    const loaded = await worker("load", libsql.url);
    running.push(loaded.stop);
    const { base } = loaded;
    const counter = libsqlCounter(libsql);
    const run = Date.now().toString(36);
    const groups = await loadGroups(base, run);
    // Warm-up (not recorded): JIT and connection pools of workerd and wrangler's proxy.
    await runGroup(base, groups[0]!, plan.warmupSeconds * 2, 2, counter);
    phase("start and seed");

    const load: LoadResult[] = [];
    for (const group of groups) {
      console.log(`  ${group.map((c) => `${c.name} ×${c.connections}`).join(" vs ")}: ${plan.seconds} s each in ${plan.rounds} round(s)…`);
      for (const result of await runGroup(base, group, plan.seconds, plan.rounds, counter)) {
        load.push(result);
        console.log(`    ${result.name} ×${result.connections}: ${result.reqPerSec.toFixed(0)} req/s, p50 ${result.p50.toFixed(1)} ms`);
        if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || result.requests === 0) {
          failed = true;
          console.error(`    ✗ ${result.requests} answers, statuses ${JSON.stringify(result.statusCodes)}, ${result.errors} errors, ${result.timeouts} timeouts`);
        }
      }
    }
    phase("load");

    // Fresh isolates (same secrets and database as the load Worker, which mints the session).
    console.log(`first requests to fresh isolates: ${plan.coldTrials} wrangler dev start(s) per case…`);
    const coldEmail = `cold-${run}@bench.example`;
    const coldSession = await registerConfirmed(base, coldEmail);
    const coldStarts = await measureColdStarts(
      // Not in `running`: each trial stops its own, and stopEverything() catches one left by an error.
      // The load Worker's PUBLIC_URL, so the access token it minted (its issuer) holds here too.
      (name) => worker(name, libsql.url, { cold: true, settings: { PUBLIC_URL: base } }),
      [
        { endpoint: "GET /bench/plain", status: 200, send: (b) => call(b, "/bench/plain") },
        { endpoint: "GET /v1/me", status: 200, send: (b) => call(b, "/v1/me", { token: coldSession.access_token }) },
        { endpoint: "POST /v1/login", status: 200, send: (b) => call(b, "/v1/login", { json: { email: coldEmail, password: PASSWORD } }) },
      ],
      plan.coldTrials,
    );
    for (const c of coldStarts) console.log(`    ${c.endpoint}: first ${c.coldMs.toFixed(1)} ms, then ${c.warmMs.toFixed(1)} ms (${c.ratio.toFixed(2)} ×)`);
    phase("cold starts");

    console.log(`backlog drain: ${plan.drainMails} mails through the cron handler and Resend's batch endpoint (local stand-in)…`);
    const drain = await measureDrain({
      count: plan.drainMails,
      libsql,
      counter,
      pepper: settings.PASSWORD_PEPPER!,
      start: (resendBaseUrl) =>
        startWorker({
          dir,
          name: "drain",
          bundle: bundle.path,
          dbUrl: libsql.url,
          dbAuthToken: libsql.authToken,
          settings: { ...settings, RESEND_API_KEY: "re_bench_drain", RESEND_BASE_URL: resendBaseUrl },
          scheduled: true,
        }),
    });
    console.log(
      `    ${drain.delivered} of ${drain.mails} delivered in ${drain.runs.length} run(s) (${drain.runs.map((r) => `${r.sent} in ${r.seconds.toFixed(1)} s`).join(", ")}), ` +
        `${drain.providerCalls} provider calls, ${drain.duplicates} twice`,
    );
    if (drain.duplicates > 0 || drain.missing > 0) failed = true;
    phase("drain");

    console.log(`mixed load: ${plan.mixed.users} virtual users, ${plan.mixed.seconds} s of register → confirm → login → refresh ×5 → forgot → reset…`);
    const mixed = await measureMixed({
      ...plan.mixed,
      start: (resendBaseUrl) =>
        startWorker({
          dir,
          name: "mixed",
          bundle: bundle.path,
          dbUrl: libsql.url,
          dbAuthToken: libsql.authToken,
          settings: { ...settings, RESEND_API_KEY: "re_bench_mixed", RESEND_BASE_URL: resendBaseUrl },
          scheduled: true,
        }),
    });
    console.log(`    ${mixed.rounds} rounds, ${mixed.serverErrors} 5xx, ${mixed.mailsDelivered}/${mixed.mailsExpected} mails, ${mixed.mailsTwice} twice`);
    for (const f of mixed.failures) console.log(`    ✗ ${f}`);
    if (mixed.serverErrors > 0 || mixed.mailsTwice > 0 || mixed.mailsDelivered !== mixed.mailsExpected || mixed.rounds === 0) failed = true;
    phase("mixed");
    const forgot = load.find((l) => l.name.includes("forgot"))!;
    if (forgot.requests > plan.forgotUsers * Number(BENCH_SETTINGS.MAIL_PER_ADDRESS_PER_HOUR)) {
      console.warn("  note: forgot ran past the per-address mail budget; later answers took the cheaper over-budget path");
    }

    const plain = findCase(load, "plain Hono route", 8);
    const bare = findCase(load, "bare route", 8);
    const meLoad = findCase(load, "/v1/me", 8);
    // Each round runs the three back to back, so a ratio within a round compares like with like.
    const perRound = (a: LoadResult, b: LoadResult) => a.roundReqPerSec.map((r, i) => r / b.roundReqPerSec[i]!);
    const byRound = perRound(meLoad, bare);
    const login = findCase(load, "login", 1).p50;
    const hashP50 = findCase(load, "hash", 1).p50;
    const roundTrip = findCase(load, "/bench/db", 1).p50 - findCase(load, "bare route", 1).p50;
    const ratios = {
      bareOverPlain: median(perRound(bare, plain)),
      bareOverPlainByRound: perRound(bare, plain),
      meOverPlain: median(perRound(meLoad, plain)),
      meOverPlainByRound: perRound(meLoad, plain),
      meOverBare: median(byRound),
      meOverBareByRound: byRound,
      loginOverHash: login / hashP50,
      login: { p50: login, hashP50, roundTripP50: roundTrip },
    };
    const { path: _path, ...bundleReport } = bundle;
    const results: Results = {
      mode: smoke ? "smoke" : "full",
      measuredAt: new Date().toISOString(),
      secondsPerCase: plan.seconds,
      machine: machine(before),
      load,
      ratios,
      roundTrips,
      withoutWebhooks,
      bundle: bundleReport,
      startup: { readyMs: loaded.startup.readyMs, profile, cold: coldStarts },
      drain,
      mixed,
      targets: judge({ ratios, roundTrips, withoutWebhooks, bundle: bundleReport, startup: { profile, cold: coldStarts }, drain, mixed }),
      phaseSeconds: phases,
    };
    mkdirSync(join(HERE, "results"), { recursive: true });
    // The last --scale run's figures stay beside these.
    const file = join(HERE, "results", "latest.json");
    const previous = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { scale?: unknown }) : {};
    writeFileSync(file, JSON.stringify({ ...results, ...(previous.scale ? { scale: previous.scale } : {}) }, null, 2) + "\n");
    console.log(`\n${formatResults(results)}\n\nwritten to bench/results/latest.json`);
  } catch (err) {
    failed = true;
    console.error(interrupted ? "bench interrupted" : `bench failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await stopAll();
    await stopEverything();
    if (failed || args.keep) console.error(`kept ${dir} (wrangler logs, env files) for a look`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

// --scale: the API cases and the retention cron on an empty and on a million-user database, side by
// side (bench/scale.ts). Its figures go into latest.json's `scale`, next to the last full run's.
async function scaleBench(
  dir: string,
  running: Array<() => Promise<unknown>>,
  phase: (name: string) => void,
  phases: Record<string, number>,
  before: number[],
): Promise<void> {
  const factor = Number(args["scale-factor"]);
  if (!(factor > 0 && factor <= 1)) throw new Error("--scale-factor must be in (0, 1]");
  const counts = Object.fromEntries(Object.entries(FULL_SCALE).map(([k, v]) => [k, Math.round(v * factor)])) as ScaleCounts;
  console.log(`bench (scale ×${factor}): building the bundle…`);
  const bundle = await buildBundle(join(dir, "dist"));
  const emptyDb = await startLibsql(dir, "empty.db");
  running.push(emptyDb.stop);
  const seededDb = await startLibsql(dir, "seeded.db");
  running.push(seededDb.stop);
  const now = Date.now();
  console.log(`seeding ${counts.users} users, ${counts.sessions} sessions and refresh tokens, ${counts.auditEvents} audit rows, ${counts.outbox} finished mails…`);
  const seedStarted = performance.now();
  const seeded = libsqlClient(seededDb);
  await seedScale(seeded, counts, now, (line) => console.log(line));
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  for (const db of [libsqlClient(emptyDb), seeded]) {
    await seedExpired(db, now);
    db.close();
  }
  phase("seed");
  const raised = Object.fromEntries(Object.entries(BENCH_SETTINGS).filter(([name]) => settingNames().includes(name)));
  const settings = { ...(await generateSecrets()), ...raised };
  const worker = async (name: string, libsql: Libsql) => {
    const w = await startWorker({ dir, name, bundle: bundle.path, dbUrl: libsql.url, dbAuthToken: libsql.authToken, settings, scheduled: true });
    running.push(w.stop);
    return w;
  };
  const stacks = { empty: { worker: await worker("scale-empty", emptyDb), libsql: emptyDb }, seeded: { worker: await worker("scale-seeded", seededDb), libsql: seededDb } };
  const measured = await measureScale({ ...stacks, plan: { seconds: plan.seconds, rounds: plan.rounds, forgotUsers: plan.forgotUsers }, log: (line) => console.log(line) });
  phase("measure");
  const size = ["seeded.db", "seeded.db-wal"].reduce((sum, f) => sum + (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0), 0);
  const scale: ScaleResult & { measuredAt: string; machine: Machine; phaseSeconds: Record<string, number> } = {
    counts,
    seedSeconds,
    databaseMiB: Math.round(size / 2 ** 20),
    ...measured,
    measuredAt: new Date().toISOString(),
    machine: machine(before),
    phaseSeconds: phases,
  };
  const file = join(HERE, "results", "latest.json");
  mkdirSync(join(HERE, "results"), { recursive: true });
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {};
  writeFileSync(file, JSON.stringify({ ...previous, scale }, null, 2) + "\n");
  console.log(`\n${formatScale(scale)}\n\nwritten to bench/results/latest.json (scale)`);
}

process.exitCode = await main();
