// The import rule of the house (README, "Architecture"): every file belongs to a layer, and a file
// imports only from its own layer or the ones below it; no two files import each other, directly
// or round about. Type-only imports count too: a type is part of what a layer knows.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** Lowest first. A path belongs to the first layer whose prefix it starts with. */
export const LAYERS: Array<{ name: string; prefix: string; may: "below" | "self-only" }> = [
  { name: "emails", prefix: "emails/", may: "self-only" },
  { name: "lib", prefix: "src/lib/", may: "self-only" },
  { name: "config", prefix: "src/config.ts", may: "below" },
  { name: "db", prefix: "src/db/", may: "below" },
  { name: "limits", prefix: "src/limits/", may: "below" },
  { name: "mail", prefix: "src/mail/", may: "below" },
  { name: "webhooks", prefix: "src/webhooks/", may: "below" },
  { name: "deps", prefix: "src/deps.ts", may: "below" },
  { name: "auth", prefix: "src/auth/", may: "below" },
  { name: "http", prefix: "src/http/", may: "below" },
  { name: "routes", prefix: "src/routes/", may: "below" },
  { name: "contract", prefix: "src/contract/", may: "below" },
  { name: "app", prefix: "src/app.ts", may: "below" },
  { name: "entry", prefix: "src/index.ts", may: "below" },
];

const IMPORT = /^\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']/gm;

function sources(root: string, dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sources(root, path);
    return /\.(ts|tsx)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

function layerOf(path: string): number {
  return LAYERS.findIndex((l) => path.startsWith(l.prefix));
}

export function checkLayers(root: string): string[] {
  const files = [...sources(root, "src"), ...sources(root, "emails")];
  const edges = new Map<string, string[]>();
  const problems: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    if (from < 0) problems.push(`${file}: belongs to no layer (add it to tools/lint/layers.ts)`);
    const text = readFileSync(join(root, file), "utf8");
    const targets: string[] = [];
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2]!;
      if (!spec.startsWith(".")) continue;
      const target = relative(root, resolve(root, dirname(file), spec));
      targets.push(target);
      const to = layerOf(target);
      if (from < 0 || to < 0) continue;
      const rule = LAYERS[from]!;
      // The templates have one user, so what a mail may contain is decided in one place.
      if (LAYERS[to]!.name === "emails" && rule.name !== "emails" && rule.name !== "mail") {
        problems.push(`${file} imports ${target}: only src/mail/ imports emails/`);
        continue;
      }
      if (rule.may === "self-only" ? to !== from : to > from) {
        problems.push(`${file} (${rule.name}) imports ${target} (${LAYERS[to]!.name}): ${rule.may === "self-only" ? `${rule.name} imports only itself` : "a lower layer never imports a higher one"}`);
      }
    }
    edges.set(file, targets);
  }
  // Cycles between files, by depth-first search.
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === "open") problems.push(`import cycle: ${[...stack.slice(stack.indexOf(next)), next].join(" → ")}`);
      else if (!state.has(next) && edges.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return problems;
}
