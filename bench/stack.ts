// The local stack as `npm start` runs it (libSQL server on a database file, migrations, `wrangler dev`
// on 127.0.0.1 with an env file of generated secrets), but in a fresh temp dir: the bench never
// reads or writes .dev.vars or .data/.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SETTING_NAMES } from "../src/config.ts";
import { generateSigningKeyJwk } from "../src/lib/crypto/jwt.ts";
import { migrateDatabase } from "../tools/migrate.ts";

export const HOST = "127.0.0.1";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");

// Every process group started here and not yet stopped, so an interrupt can stop even one that is
// still starting.
const live = new Set<ChildProcess>();

export async function stopEverything(): Promise<void> {
  await Promise.all([...live].map(stopProcessGroup));
}

/** Runs the project's wrangler on this Node (the project's own), whatever `node` is first in PATH. */
export function wranglerCommand(args: string[]): [string, string[]] {
  return [process.execPath, [WRANGLER, ...args]];
}

export interface Libsql {
  url: string;
  stop(): Promise<void>;
}

export interface DevWorker {
  base: string;
  /**
   * Milliseconds from spawning wrangler to its "Ready on" line and to the first 200 from /health, and
   * how long that first request took (the isolate's first: config parsed, keys imported).
   */
  startup: { readyMs: number | null; firstHealthMs: number; coldRequestMs: number };
  stop(): Promise<void>;
}

export interface WorkerOptions {
  dir: string;
  /** Names this run's env file and log. */
  name: string;
  /** The built Worker (wrangler deploy --dry-run): measured as deployed, and deaf to edits made mid-run. */
  bundle: string;
  dbUrl: string;
  /** Generated secrets plus settings (e.g. limits raised so the load is not refused). */
  settings: Record<string, string>;
}

/** The libSQL server on a fresh database file in `dir`, migrated. */
export async function startLibsql(dir: string): Promise<Libsql> {
  const child = spawn(
    process.execPath,
    [join(ROOT, "tools/libsql-server/cli.ts"), "--file", join(dir, "bench.db"), "--host", HOST, "--port", "0", "--quiet"],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"], detached: true },
  );
  live.add(child);
  const stop = () => stopProcessGroup(child);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let seen = "";
      const timer = setTimeout(() => reject(new Error("the libSQL server did not start within 10 s")), 10_000);
      child.once("exit", (code) => reject(new Error(`the libSQL server exited with ${code}`)));
      child.stdout!.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(seen);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    await migrateDatabase(url);
    return { url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export async function generateSecrets(): Promise<Record<string, string>> {
  const key = await generateSigningKeyJwk(`bench-${randomBytes(4).toString("hex")}`);
  return { JWT_SIGNING_KEYS: JSON.stringify([key]), PASSWORD_PEPPER: randomBytes(32).toString("base64url") };
}

export async function startWorker(opts: WorkerOptions): Promise<DevWorker> {
  const [port, inspectorPort] = await Promise.all([freePort(), freePort()]);
  const base = `http://${HOST}:${port}`;
  const vars: Record<string, string> = {
    ENVIRONMENT: "development",
    PUBLIC_URL: base,
    BENCH_ROUTES: "true",
    ...opts.settings,
    DB_URL: opts.dbUrl,
  };
  const unknown = Object.keys(vars).filter((name) => !SETTING_NAMES.includes(name));
  if (unknown.length > 0) throw new Error(`unknown settings for the Worker: ${unknown.join(", ")}`);
  const envFile = join(opts.dir, `${opts.name}.env`);
  writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}='${v}'`).join("\n") + "\n", { mode: 0o600 });

  const logPath = join(opts.dir, `${opts.name}.wrangler.log`);
  const log = createWriteStream(logPath);
  const spawnedAt = performance.now();
  let readyAt: number | null = null;
  const wrangler = spawn(
    ...wranglerCommand([
      "dev",
      opts.bundle,
      "--no-bundle",
      "--ip", HOST,
      "--port", String(port),
      "--inspector-port", String(inspectorPort),
      "--env-file", envFile,
      "--persist-to", join(opts.dir, "wrangler-state"),
      "--show-interactive-dev-session=false",
    ]),
    { cwd: ROOT, env: wranglerEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  live.add(wrangler);
  const stop = () => stopProcessGroup(wrangler);
  wrangler.stdout!.on("data", (chunk: Buffer) => {
    if (readyAt === null && chunk.toString().includes("Ready on")) readyAt = performance.now();
    log.write(chunk);
  });
  wrangler.stderr!.pipe(log);
  try {
    const health = await waitForHealth(base, wrangler, logPath);
    const readyMs = readyAt === null ? null : (readyAt as number) - spawnedAt;
    return { base, startup: { readyMs, firstHealthMs: health.at - spawnedAt, coldRequestMs: health.tookMs }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// Only what wrangler needs from this environment: no Worker settings leak in from the shell.
// CLOUDFLARE_CF_FETCH_ENABLED=false: miniflare would otherwise fetch a Request.cf sample from the internet.
export function wranglerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (SETTING_NAMES.includes(name) || name === "CLOUDFLARE_INCLUDE_PROCESS_ENV") continue;
    env[name] = value;
  }
  return {
    ...env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_TELEMETRY_DISABLED: "1",
    NO_UPDATE_NOTIFIER: "1",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
  };
}

async function waitForHealth(base: string, wrangler: ChildProcess, logPath: string): Promise<{ at: number; tookMs: number }> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (wrangler.exitCode !== null) throw new Error(`wrangler exited with ${wrangler.exitCode}; see ${logPath}`);
    const sent = performance.now();
    const res = await fetch(`${base}/health`).catch(() => null);
    await res?.body?.cancel();
    if (res?.ok) return { at: performance.now(), tookMs: performance.now() - sent };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${base}/health did not answer 200 within 60 s; see ${logPath}`);
}

// Each child leads its own process group (detached), so workerd goes down with wrangler.
async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // the whole group is gone already
    }
  };
  const leaderRunning = child.exitCode === null && child.signalCode === null;
  const exited = leaderRunning ? new Promise<void>((resolve) => child.once("exit", () => resolve())) : Promise.resolve();
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
  live.delete(child);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
