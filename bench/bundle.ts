// The deployable bundle (`wrangler deploy --dry-run`): its size, what fills it, and how long the
// Worker takes to start (wrangler's local startup profile of that same bundle).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { wranglerCommand, wranglerEnv } from "./stack.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ENV = wranglerEnv();

export interface BundleReport {
  path: string;
  bytes: number;
  gzipBytes: number;
  /** wrangler's own "Total Upload: … / gzip: …" line, in KiB. */
  wrangler: { totalKiB: number; gzipKiB: number } | null;
  /** Bytes in the bundle per package (or "src", "emails"), largest first. */
  byPackage: Array<{ name: string; bytes: number }>;
}

export interface StartupProfile {
  /** Median over the runs: one run on a shared machine is at the mercy of its neighbours. */
  activeMs: number;
  windowMs: number | null;
  runs: number[];
}

export async function buildBundle(outdir: string): Promise<BundleReport> {
  const metafile = join(outdir, "meta.json");
  const { stdout } = await run(...wranglerCommand(["deploy", "--dry-run", "--outdir", outdir, "--metafile", metafile]), { cwd: ROOT, env: ENV });
  const path = join(outdir, "index.js");
  const code = readFileSync(path);
  const upload = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(stdout);
  return {
    path,
    bytes: code.byteLength,
    gzipBytes: gzipSync(code, { level: 9 }).byteLength,
    wrangler: upload ? { totalKiB: Number(upload[1]), gzipKiB: Number(upload[2]) } : null,
    byPackage: sizeByPackage(metafile),
  };
}

function sizeByPackage(metafile: string): Array<{ name: string; bytes: number }> {
  const meta = JSON.parse(readFileSync(metafile, "utf8")) as {
    outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const totals = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

function packageOf(input: string): string {
  const path = relative(ROOT, join(ROOT, input)).replaceAll("\\", "/");
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (match) return match[1]!;
  return path.split("/")[0] ?? path;
}

// Builds the Worker again from the tree (its --worker flag wants a multipart upload bundle, not index.js).
export async function profileStartup(outfile: string, times: number): Promise<StartupProfile | null> {
  const runs: Array<{ active: number; window: number | null }> = [];
  try {
    for (let i = 0; i < times; i++) {
      const { stdout } = await run(...wranglerCommand(["check", "startup", "--outfile", outfile]), { cwd: ROOT, env: ENV });
      const active = /Active: ([\d.]+) ms/.exec(stdout);
      const window = /Profile window: ([\d.]+) ms/.exec(stdout);
      if (active) runs.push({ active: Number(active[1]), window: window ? Number(window[1]) : null });
    }
  } catch {
    // a run that fails is left out
  }
  if (runs.length === 0) return null;
  const sorted = [...runs].sort((a, b) => a.active - b.active);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { activeMs: mid.active, windowMs: mid.window, runs: runs.map((r) => r.active) };
}
