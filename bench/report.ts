// Markdown tables (readable in a terminal, pasteable into README) and the target verdicts.
import type { BundleReport, StartupProfile } from "./bundle.ts";
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
    /** Median over the rounds of (/v1/me req/s ÷ bare route req/s), each round measured back to back. */
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
  startup: { readyMs: number | null; firstHealthMs: number; coldRequestMs: number; warmRequestMs: number; profile: StartupProfile | null };
  targets: Target[];
  /** Wall time of each phase of the run. */
  phaseSeconds: Record<string, number>;
}

const WRITE = /^(?:POST|DELETE) /;

export function judge(r: Pick<Results, "ratios" | "roundTrips" | "withoutWebhooks">): Target[] {
  const targets: Target[] = [
    {
      target: "login p50 ≤ 1.15 × one hash derivation p50 (1 connection)",
      measured: `${r.ratios.loginOverHash.toFixed(3)} ×`,
      met: r.ratios.loginOverHash <= 1.15,
    },
    { target: "GET /v1/me req/s ≥ 0.8 × bare route", measured: `${r.ratios.meOverBare.toFixed(3)} ×`, met: r.ratios.meOverBare >= 0.8 },
  ];
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
  out.push(
    `/v1/me ÷ bare route (req/s, median of rounds) = ${r.ratios.meOverBare.toFixed(2)}` +
      (r.ratios.meOverBareByRound.length > 1 ? ` (rounds: ${r.ratios.meOverBareByRound.map((x) => x.toFixed(2)).join(", ")})` : "") +
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
    `Startup: ${s.profile ? `Worker startup profile (wrangler check startup) ${ms(s.profile.activeMs)} ms active CPU; ` : ""}` +
      `wrangler dev spawn → ready ${s.readyMs === null ? "n/a" : `${ms(s.readyMs)} ms`}, → first 200 on /health ${ms(s.firstHealthMs)} ms; ` +
      `first request to a fresh isolate ${ms(s.coldRequestMs)} ms vs ${ms(s.warmRequestMs)} ms warm.`,
  );
  out.push("");
  out.push(table(["target", "measured", "met"], r.targets.map((t) => [t.target, t.measured, t.met ? "yes" : "**no**"])));
  out.push("");
  out.push(`Phases (s): ${Object.entries(r.phaseSeconds).map(([name, s]) => `${name} ${s}`).join(", ")}.`);
  return out.join("\n");
}
