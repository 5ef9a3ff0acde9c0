// Markdown tables (readable in a terminal, pasteable into README) and the target verdicts.
import type { BundleReport, StartupProfile } from "./bundle.ts";
import type { ColdStart } from "./cold-start.ts";
import type { DrainResult } from "./drain.ts";
import type { MixedResult } from "./mixed.ts";
import type { ScaleResult } from "./scale.ts";
import type { LoadResult } from "./load.ts";
import type { RoundTrips } from "./round-trips.ts";

export interface Machine {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  os: string;
  node: string;
  wrangler: string;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
}

export interface Target {
  target: string;
  measured: string;
  met: boolean;
}

export interface Results {
  mode: "full" | "smoke";
  measuredAt: string;
  secondsPerCase: number;
  machine: Machine;
  load: LoadResult[];
  ratios: {
    /** Median over the rounds of (bare route req/s ÷ plain Hono route req/s), each round measured back to back. */
    bareOverPlain: number;
    bareOverPlainByRound: number[];
    meOverPlain: number;
    meOverPlainByRound: number[];
    /** Median over the rounds of (/v1/me req/s ÷ bare route req/s). */
    meOverBare: number;
    meOverBareByRound: number[];
    loginOverHash: number;
    /** Login p50 next to one hash and one bare libSQL round trip (/bench/db − bare route), all at 1 connection. */
    login: { p50: number; hashP50: number; roundTripP50: number };
  };
  /** With one webhook endpoint configured. */
  roundTrips: RoundTrips[];
  /** The endpoints that emitted webhook events, counted again with no endpoint configured. */
  withoutWebhooks: RoundTrips[];
  bundle: Omit<BundleReport, "path">;
  startup: Startup;
  drain: DrainResult;
  mixed: MixedResult;
  targets: Target[];
  /** Wall time of each phase of the run. */
  phaseSeconds: Record<string, number>;
}

export interface Startup {
  /** wrangler dev spawn → its "Ready on" line, for the load Worker. */
  readyMs: number | null;
  /** CPU spent evaluating the bundle (wrangler check startup). */
  profile: StartupProfile | null;
  /** First request to a fresh isolate against the same request once warm. */
  cold: ColdStart[];
}

const WRITE = /^(?:POST|DELETE) /;
export const BUNDLE_GZIP_TARGET_KIB = 150;
export const STARTUP_CPU_TARGET_MS = 20;

/** The gzip size Cloudflare counts (wrangler's figure; our own level-9 gzip if wrangler printed none). */
export function bundleGzipKiB(bundle: Pick<BundleReport, "gzipBytes" | "wrangler">): number {
  return bundle.wrangler?.gzipKiB ?? bundle.gzipBytes / 1024;
}

export const DRAIN_TARGET_PER_MINUTE = 2000;

export function judge(
  r: Pick<Results, "ratios" | "roundTrips" | "withoutWebhooks" | "drain" | "mixed"> & { bundle: Pick<BundleReport, "gzipBytes" | "wrangler">; startup: Pick<Startup, "profile" | "cold"> },
): Target[] {
  const times = (v: number) => `${v.toFixed(3)} ×`;
  const targets: Target[] = [
    {
      target: "login p50 ≤ 1.15 × one hash derivation p50 (1 connection)",
      measured: times(r.ratios.loginOverHash),
      met: r.ratios.loginOverHash <= 1.15,
    },
    { target: "bare route req/s ≥ 0.9 × plain Hono route", measured: times(r.ratios.bareOverPlain), met: r.ratios.bareOverPlain >= 0.9 },
    { target: "GET /v1/me req/s ≥ 0.85 × plain Hono route", measured: times(r.ratios.meOverPlain), met: r.ratios.meOverPlain >= 0.85 },
  ];
  const cpu = r.startup.profile?.activeMs;
  targets.push({
    target: `startup CPU ≤ ${STARTUP_CPU_TARGET_MS} ms (wrangler check startup)`,
    measured: cpu === undefined ? "not measured" : `${cpu.toFixed(1)} ms`,
    met: cpu !== undefined && cpu <= STARTUP_CPU_TARGET_MS,
  });
  for (const [endpoint, limit] of [["GET /v1/me", 5], ["POST /v1/login", 1.5]] as const) {
    const c = r.startup.cold.find((x) => x.endpoint === endpoint);
    if (c) targets.push({ target: `fresh isolate's first ${endpoint} ≤ ${limit} × warm`, measured: `${times(c.ratio)} (${ms(c.coldMs)} vs ${ms(c.warmMs)} ms)`, met: c.ratio <= limit });
  }
  const gzip = bundleGzipKiB(r.bundle);
  targets.push({ target: `bundle ≤ ${BUNDLE_GZIP_TARGET_KIB} KiB gzipped`, measured: `${gzip.toFixed(1)} KiB`, met: gzip <= BUNDLE_GZIP_TARGET_KIB });
  const d = r.drain;
  targets.push({
    target: `backlog drain ≥ ${DRAIN_TARGET_PER_MINUTE} mails per cron minute, none sent twice`,
    measured: `${Math.round(d.mailsPerMinute)}/min, ${d.duplicates} twice, ${d.missing} missing`,
    met: d.mailsPerMinute >= Math.min(DRAIN_TARGET_PER_MINUTE, d.mails) && d.duplicates === 0 && d.missing === 0,
  });
  const x = r.mixed;
  targets.push({
    target: `mixed load (${x.users} users, ${x.seconds} s): no 5xx, every mail once`,
    measured: `${x.serverErrors} 5xx, ${x.mailsDelivered}/${x.mailsExpected} mails, ${x.mailsTwice} twice`,
    met: x.serverErrors === 0 && x.mailsTwice === 0 && x.mailsDelivered === x.mailsExpected && x.rounds > 0,
  });
  const me = r.roundTrips.find((t) => t.endpoint === "GET /v1/me");
  if (me) targets.push({ target: "GET /v1/me: 0 libSQL requests", measured: String(me.responsePath), met: me.responsePath === 0 && me.total === 0 });
  const writes = r.roundTrips.filter((t) => WRITE.test(t.endpoint));
  const worst = Math.max(...writes.map((t) => t.responsePath));
  const over = writes.filter((t) => t.responsePath > 2).map((t) => t.endpoint);
  targets.push({
    target: "every write endpoint ≤ 2 libSQL requests (response path)",
    measured: over.length ? `over: ${over.join(", ")}` : `max ${worst}`,
    met: over.length === 0,
  });
  const pairs = r.withoutWebhooks.map((plain) => ({ plain, hooked: r.roundTrips.find((t) => t.endpoint === plain.endpoint)! }));
  const added = pairs.filter(({ plain, hooked }) => hooked.responsePath !== plain.responsePath).map(({ plain }) => plain.endpoint);
  targets.push({
    target: "emitting webhook events adds 0 libSQL requests to the response path",
    measured: pairs.length === 0 ? "no endpoint emitted events" : added.length ? `differs: ${added.join(", ")}` : `0 added (${pairs.length} endpoints that emit)`,
    met: pairs.length > 0 && added.length === 0,
  });
  return targets;
}

function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map((h, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");
}

const ms = (v: number) => (v < 10 ? v.toFixed(1) : v.toFixed(0));
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export function formatResults(r: Results): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(
    `Measured ${r.measuredAt} (${r.mode}, ${r.secondsPerCase} s per case) on ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB RAM, ${m.os}; ` +
      `Node ${m.node}, wrangler ${m.wrangler}; load average before/after ${m.loadAverageBefore[0]!.toFixed(2)}/${m.loadAverageAfter[0]!.toFixed(2)}.`,
  );
  out.push("");
  out.push(
    table(
      ["case", "connections", "req/s", "p50 ms", "p99 ms", "libSQL req per request (incl. mail)"],
      r.load.map((l) => [l.name, l.connections, l.reqPerSec.toFixed(0), ms(l.p50), ms(l.p99), l.libsqlPerRequest.toFixed(2)]),
    ),
  );
  out.push("");
  const l = r.ratios.login;
  const rounds = (byRound: number[]) => (byRound.length > 1 ? ` (rounds: ${byRound.map((x) => x.toFixed(2)).join(", ")})` : "");
  out.push(
    `Req/s, median of per-round ratios: bare route ÷ plain Hono route = ${r.ratios.bareOverPlain.toFixed(2)}${rounds(r.ratios.bareOverPlainByRound)}; ` +
      `/v1/me ÷ plain = ${r.ratios.meOverPlain.toFixed(2)}${rounds(r.ratios.meOverPlainByRound)}; ` +
      `/v1/me ÷ bare = ${r.ratios.meOverBare.toFixed(2)}${rounds(r.ratios.meOverBareByRound)}` +
      `. Login ÷ one hash derivation (p50, 1 connection) = ${r.ratios.loginOverHash.toFixed(2)}: ` +
      `login ${ms(l.p50)} ms − hash ${ms(l.hashP50)} ms = ${ms(l.p50 - l.hashP50)} ms for everything else, including 2 libSQL ` +
      `requests (a bare select-1 round trip costs ${ms(l.roundTripP50)} ms seen from the Worker: /bench/db − bare route, 1 connection).`,
  );
  out.push("");
  const plain = new Map(r.withoutWebhooks.map((t) => [t.endpoint, t]));
  out.push(
    table(
      [
        "endpoint",
        "status",
        "libSQL requests: response path",
        "… without a webhook endpoint",
        "total incl. mail and webhooks in waitUntil",
        "write statements (total)",
        "webhook messages",
      ],
      r.roundTrips.map((t) => [t.endpoint, t.status, t.responsePath, plain.get(t.endpoint)?.responsePath ?? "", t.total, t.writes, t.webhooks]),
    ),
  );
  out.push("");
  const b = r.bundle;
  const s = r.startup;
  out.push(
    `Bundle (wrangler deploy --dry-run): ${kib(b.bytes)}, gzip ${kib(b.gzipBytes)}` +
      (b.wrangler ? ` (wrangler: ${b.wrangler.totalKiB} KiB / gzip ${b.wrangler.gzipKiB} KiB)` : "") +
      `; largest parts: ${b.byPackage.slice(0, 6).map((p) => `${p.name} ${kib(p.bytes)}`).join(", ")}.`,
  );
  out.push(
    `Startup: ${s.profile ? `Worker startup profile (wrangler check startup) ${ms(s.profile.activeMs)} ms active CPU (median of ${s.profile.runs.map(ms).join(", ")}); ` : ""}` +
      `wrangler dev spawn → ready ${s.readyMs === null ? "n/a" : `${ms(s.readyMs)} ms`}.`,
  );
  out.push("");
  out.push(
    table(
      ["first request to a fresh isolate (median of trials)", "first ms", "warm ms", "first ÷ warm", "trials (first/warm ms)"],
      s.cold.map((c) => [c.endpoint, ms(c.coldMs), ms(c.warmMs), c.ratio.toFixed(2), c.trials.map((t) => `${ms(t.coldMs)}/${ms(t.warmMs)}`).join(", ")]),
    ),
  );
  out.push("");
  const d = r.drain;
  out.push(
    `Backlog drain: ${d.mails} mails queued, delivered by ${d.runs.length} cron run(s) (${d.runs.map((x) => `${x.sent} in ${x.seconds.toFixed(1)} s`).join(", ")}; ` +
      `${d.totalSeconds.toFixed(0)} s in all, runs fired back to back) with ${d.providerCalls} calls to the Resend stand-in: ` +
      `${Math.round(d.mailsPerMinute)} mails per cron run (a minute apart); ${d.delivered} delivered, ${d.duplicates} twice, ${d.missing} missing.`,
  );
  out.push("");
  const x = r.mixed;
  out.push(
    `Mixed load: ${x.users} virtual users for ${x.seconds} s, each round register → confirm → login → refresh ×5 → forgot → reset; ` +
      `${x.rounds} rounds finished, ${x.serverErrors} 5xx, ${x.mailsDelivered} of ${x.mailsExpected} mails of finished rounds delivered, ${x.mailsTwice} twice` +
      (x.cronRuns > 0 ? ` (after ${x.cronRuns} cron run for the sends the request path could not make).` : "."),
  );
  out.push("");
  out.push(table(["endpoint (mixed load)", "requests", "p50 ms", "p99 ms", "unexpected answers", "5xx"], x.endpoints.map((e) => [e.endpoint, e.requests, ms(e.p50), ms(e.p99), e.unexpected, e.serverErrors])));
  out.push("");
  out.push(table(["target", "measured", "met"], r.targets.map((t) => [t.target, t.measured, t.met ? "yes" : "**no**"])));
  out.push("");
  out.push(`Phases (s): ${Object.entries(r.phaseSeconds).map(([name, s]) => `${name} ${s}`).join(", ")}.`);
  return out.join("\n");
}

export const SCALE_TOLERANCE = 1.15;
export const LOCK_HOLD_TARGET_MS = 50;

export function judgeScale(r: ScaleResult): Target[] {
  const targets: Target[] = r.load.map((l) => ({
    target: `${l.name}: p50 on the seeded database ≤ ${SCALE_TOLERANCE} × empty`,
    measured: `${l.p50Ratio.toFixed(2)} × (${ms(l.seeded.p50)} vs ${ms(l.empty.p50)} ms)`,
    met: l.p50Ratio <= SCALE_TOLERANCE,
  }));
  targets.push({
    target: `retention cron run (same expired rows) ≤ ${SCALE_TOLERANCE} × empty`,
    measured: `${r.cron.ratio.toFixed(2)} × (${r.cron.seeded.seconds.toFixed(2)} vs ${r.cron.empty.seconds.toFixed(2)} s)`,
    met: r.cron.ratio <= SCALE_TOLERANCE,
  });
  targets.push({
    target: `no cron statement holds the write lock past ${LOCK_HOLD_TARGET_MS} ms (seeded)`,
    measured: `longest ${r.cron.seeded.longestLockMs.toFixed(1)} ms`,
    met: r.cron.seeded.longestLockMs <= LOCK_HOLD_TARGET_MS,
  });
  return targets;
}

export function formatScale(r: ScaleResult & { measuredAt: string; machine: Machine }): string {
  const m = r.machine;
  const c = r.counts;
  const out: string[] = [];
  out.push(
    `Measured ${r.measuredAt} on ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB RAM; load average before/after ${m.loadAverageBefore[0]!.toFixed(2)}/${m.loadAverageAfter[0]!.toFixed(2)}. ` +
      `Seeded ${c.users} users, ${c.sessions} sessions and as many refresh tokens, ${c.auditEvents} audit rows, ${c.outbox} finished mails in ${r.seedSeconds.toFixed(0)} s` +
      (r.databaseMiB === null ? "." : ` (${r.databaseMiB} MiB).`),
  );
  out.push("");
  out.push(
    table(
      ["case", "connections", "empty req/s", "seeded req/s", "empty p50 ms", "seeded p50 ms", "seeded ÷ empty (p50)", "empty p99", "seeded p99"],
      r.load.map((l) => [l.name, l.empty.connections, l.empty.reqPerSec.toFixed(0), l.seeded.reqPerSec.toFixed(0), ms(l.empty.p50), ms(l.seeded.p50), l.p50Ratio.toFixed(2), ms(l.empty.p99), ms(l.seeded.p99)]),
    ),
  );
  out.push("");
  const cron = (x: ScaleResult["cron"]["empty"]) => `${x.seconds.toFixed(2)} s, ${x.dbMs.toFixed(0)} ms in SQLite, longest write-lock hold ${x.longestLockMs.toFixed(1)} ms`;
  out.push(`Retention cron (the same expired rows in both): empty ${cron(r.cron.empty)}; seeded ${cron(r.cron.seeded)}.`);
  if (r.cron.seeded.slowestStatement) out.push(`Slowest statement of the seeded run: ${r.cron.seeded.slowestStatement.ms.toFixed(1)} ms, ${r.cron.seeded.slowestStatement.sql.slice(0, 160)}`);
  out.push("");
  out.push(table(["target", "measured", "met"], judgeScale(r).map((t) => [t.target, t.measured, t.met ? "yes" : "**no**"])));
  return out.join("\n");
}
