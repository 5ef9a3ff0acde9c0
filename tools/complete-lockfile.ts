// `npm run lock:complete`: this machine's registry serves workerd's Linux binaries but not its macOS
// and Windows ones, so npm leaves those optional packages out of package-lock.json, and `npm ci`
// then refuses the lock as out of sync. This adds the missing entries (version, os, cpu; no
// integrity, since npm never fetches a package for another platform). Run it after changing
// dependencies.
import { readFileSync, writeFileSync } from "node:fs";

const LOCK = "package-lock.json";
const PLATFORMS: Record<string, { os: string; cpu: string }> = {
  "darwin-64": { os: "darwin", cpu: "x64" },
  "darwin-arm64": { os: "darwin", cpu: "arm64" },
  "linux-64": { os: "linux", cpu: "x64" },
  "linux-arm64": { os: "linux", cpu: "arm64" },
  "windows-64": { os: "win32", cpu: "x64" },
};

type Entry = { version?: string; dev?: boolean; optionalDependencies?: Record<string, string>; [key: string]: unknown };
const lock = JSON.parse(readFileSync(LOCK, "utf8")) as { packages: Record<string, Entry> };
const added: string[] = [];

for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [dependency, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const platform = /^@cloudflare\/workerd-(.+)$/.exec(dependency)?.[1];
    const target = PLATFORMS[platform ?? ""];
    if (!target) continue;
    const parent = path.slice(0, path.lastIndexOf("node_modules/"));
    const where = [`${path}/node_modules/${dependency}`, `${parent}node_modules/${dependency}`, `node_modules/${dependency}`];
    if (where.some((p) => lock.packages[p])) continue;
    lock.packages[where[2]!] = {
      version,
      cpu: [target.cpu],
      dev: entry.dev,
      license: "Apache-2.0",
      optional: true,
      os: [target.os],
      engines: { node: ">=16" },
    };
    added.push(`${dependency}@${version}`);
  }
}

const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)));
writeFileSync(LOCK, `${JSON.stringify({ ...lock, packages: sorted }, null, 2)}\n`);
console.log(added.length ? `added to ${LOCK}: ${added.join(", ")}` : `${LOCK} already lists every workerd platform package`);
