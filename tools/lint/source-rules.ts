// Rules over the Worker's sources that local workerd cannot show: production Workers refuse PBKDF2
// above 100,000 iterations, and configuration must come from env bindings (process.env is empty in
// production, so a read would find nothing there while working locally).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

function sources(root: string, dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sources(root, path);
    return /\.(ts|tsx)$/.test(name) ? [path] : [];
  });
}

export function checkSourceRules(root: string): string[] {
  const problems: string[] = [];
  for (const file of [...sources(root, "src"), ...sources(root, "emails")]) {
    const text = readFileSync(join(root, file), "utf8");
    for (const match of text.matchAll(/iterations?[^0-9\n]{0,30}([0-9][0-9_]{5,})/gi)) {
      if (Number(match[1]!.replaceAll("_", "")) > 100_000) problems.push(`${file}: "${match[0]}" is above the 100,000 PBKDF2 iterations production accepts`);
    }
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
    if (/process\s*\.\s*env|process\s*\[\s*["']env["']\s*\]/.test(code)) problems.push(`${file}: reads process.env; the Worker takes settings from env bindings (src/config.ts)`);
  }
  const wrangler = readFileSync(join(root, "wrangler.toml"), "utf8");
  if (!/compatibility_flags\s*=\s*\[[^\]]*"nodejs_compat_do_not_populate_process_env"/.test(wrangler)) {
    problems.push("wrangler.toml: keep nodejs_compat_do_not_populate_process_env, so a stray process.env read finds nothing");
  }
  return problems;
}
