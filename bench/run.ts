// `npm run bench` [-- --smoke]: what a request costs, measured in one run on a fresh local stack.
// See bench/README.md. Sends traffic to 127.0.0.1 only; stops everything it started, also on error.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem, type } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SETTING_NAMES } from "../src/config.ts";
import { benchIp, call, inParallel, login, PASSWORD, registerConfirmed, type Session } from "./api.ts";
import { buildBundle, profileStartup } from "./bundle.ts";
import { runGroup, type LoadCase, type LoadResult } from "./load.ts";
import { formatResults, judge, type Machine, type Results } from "./report.ts";
import { startDbGate } from "./db-gate.ts";
import { countRoundTrips, libsqlCounter } from "./round-trips.ts";
import { generateWebhookSecret } from "../src/lib/crypto/webhook-secrets.ts";
import { startWebhookStandIn } from "../tools/webhook-stand-in/server.ts";
import { generateSecrets, startLibsql, startWorker, stopEverything, wranglerCommand, type DevWorker } from "./stack.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const { values: args } = parseArgs({ options: { smoke: { type: "boolean", default: false }, keep: { type: "boolean", default: false } } });
const smoke = args.smoke || process.env.BENCH_SMOKE === "1";
const plan = smoke
  ? { seconds: 1, rounds: 1, warmupSeconds: 0.5, trials: 1, forgotUsers: 4 }
  : { seconds: 5, rounds: 5, warmupSeconds: 1, trials: 2, forgotUsers: 10 };

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

function jsonPost(path: string, body: unknown) {
  return {
    method: "POST",
    path,
    headers: { "content-type": "application/json", "cf-connecting-ip": benchIp() },
    body: JSON.stringify(body),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timeMedian(times: number, task: () => Promise<unknown>): Promise<number> {
  const took: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await task();
    took.push(performance.now() - started);
  }
  return median(took);
}

/** Groups of cases; the cases of a group are compared, so they run in alternating rounds. */
async function loadGroups(base: string, run: string): Promise<LoadCase[][]> {
  const loginEmail = `login-${run}@bench.example`;
  const me = await registerConfirmed(base, loginEmail);

  // Rotation: each refresh consumes its token and answers with the successor. Every connection
  // takes a live token from the pool and puts the successor back, so each request presents a token
  // that has never been used (a reused one would end the session and answer 401). A request still in
  // flight when a round ends takes its successor with it, hence a spare session per connection and round.
  const refreshConnections = 4;
  const sessions = refreshConnections * (plan.rounds + 1);
  const pool: string[] = (await inParallel(Array.from({ length: sessions }), 2, () => login(base, loginEmail))).map(
    (s: Session) => s.refresh_token,
  );

  // Forgot sends a reset mail to a confirmed account; addresses rotate so the per-address mail budget
  // is not what gets measured.
  const forgotEmails = Array.from({ length: plan.forgotUsers }, (_, i) => `forgot-${run}-${i}@bench.example`);
  await inParallel(forgotEmails, 2, (email) => registerConfirmed(base, email));
  let forgotNext = 0;
  let registerNext = 0;

  const hash = (connections: number): LoadCase => ({ name: "one hash derivation (GET /bench/hash)", connections, request: { path: "/bench/hash" } });
  const loginCase = (connections: number): LoadCase => ({
    name: "POST /v1/login",
    connections,
    request: jsonPost("/v1/login", { email: loginEmail, password: PASSWORD }),
    next: () => jsonPost("/v1/login", { email: loginEmail, password: PASSWORD }),
  });
  return [
    [
      { name: "bare route (GET /bench/bare)", connections: 8, request: { path: "/bench/bare" } },
      { name: "GET /v1/me", connections: 8, request: { path: "/v1/me", headers: { authorization: `Bearer ${me.access_token}` } } },
    ],
    // Login = one hash + its libSQL round trips + the rest; /bench/db is the bare route plus one
    // round trip (select 1), so these four say what the difference is made of.
    [
      hash(1),
      loginCase(1),
      { name: "bare route (GET /bench/bare)", connections: 1, request: { path: "/bench/bare" } },
      { name: "one libSQL round trip (GET /bench/db)", connections: 1, request: { path: "/bench/db" } },
    ],
    [{
      name: "POST /v1/token/refresh",
      connections: refreshConnections,
      // Built per request by `next` (also the first one); this one is never sent.
      request: jsonPost("/v1/token/refresh", { refresh_token: "" }),
      next: () => jsonPost("/v1/token/refresh", { refresh_token: pool.pop() ?? "pool-ran-dry" }),
      onAnswer: (status, body) => {
        if (status === 200) pool.push((JSON.parse(body) as { session: Session }).session.refresh_token);
      },
    }],
    [{
      name: "POST /v1/register (new address)",
      connections: 4,
      request: jsonPost("/v1/register", { email: `reg-${run}-x@bench.example`, password: PASSWORD }),
      next: () => jsonPost("/v1/register", { email: `reg-${run}-${registerNext++}@bench.example`, password: PASSWORD }),
    }],
    [{
      name: "POST /v1/password/forgot",
      connections: 4,
      request: jsonPost("/v1/password/forgot", { email: forgotEmails[0] }),
      next: () => jsonPost("/v1/password/forgot", { email: forgotEmails[forgotNext++ % forgotEmails.length] }),
    }],
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
    console.log(`bench (${smoke ? "smoke" : "full"}): building the bundle…`);
    const bundle = await buildBundle(join(dir, "dist"));
    const profile = await profileStartup(join(dir, "startup.cpuprofile"));
    phase("bundle and startup profile");

    console.log("starting the libSQL server on a fresh database…");
    const libsql = await startLibsql(dir);
    running.push(libsql.stop);
    const raised = Object.fromEntries(Object.entries(BENCH_SETTINGS).filter(([name]) => SETTING_NAMES.includes(name)));
    const settings = { ...(await generateSecrets()), ...raised };
    const worker = (name: string, dbUrl: string) =>
      startWorker({ dir, name, bundle: bundle.path, dbUrl, dbAuthToken: libsql.authToken, settings });

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
    const plain: DevWorker = await worker("round-trips-without-webhooks", gate.url);
    running.push(plain.stop);
    const withoutWebhooks = await countRoundTrips(plain.base, libsql, gate, plan.trials, { only: emitting });
    await running.pop()!();
    await running.pop()!();
    await running.pop()!();
    phase("round trips");

    console.log("starting wrangler dev for the load cases…");
    const loaded = await worker("load", libsql.url);
    running.push(loaded.stop);
    const { base } = loaded;
    // Like for like with the cold request (the first /health, one select 1); later /health calls reuse that probe.
    const warmRequestMs = await timeMedian(5, () => call(base, "/bench/db"));
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
    const forgot = load.find((l) => l.name.includes("forgot"))!;
    if (forgot.requests > plan.forgotUsers * Number(BENCH_SETTINGS.MAIL_PER_ADDRESS_PER_HOUR)) {
      console.warn("  note: forgot ran past the per-address mail budget; later answers took the cheaper over-budget path");
    }

    const bare = findCase(load, "bare route", 8);
    const meLoad = findCase(load, "/v1/me", 8);
    const byRound = meLoad.roundReqPerSec.map((r, i) => r / bare.roundReqPerSec[i]!);
    const login = findCase(load, "login", 1).p50;
    const hashP50 = findCase(load, "hash", 1).p50;
    const roundTrip = findCase(load, "/bench/db", 1).p50 - findCase(load, "bare route", 1).p50;
    const ratios = {
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
      startup: { ...loaded.startup, warmRequestMs, profile },
      targets: judge({ ratios, roundTrips, withoutWebhooks }),
      phaseSeconds: phases,
    };
    mkdirSync(join(HERE, "results"), { recursive: true });
    writeFileSync(join(HERE, "results", "latest.json"), JSON.stringify(results, null, 2) + "\n");
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

process.exitCode = await main();
