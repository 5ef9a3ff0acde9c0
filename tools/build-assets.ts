// Writes the Worker's static assets (wrangler.toml [assets], served by Cloudflare in front of the
// Worker, outside its bundle): public/docs/scalar.js, Scalar's standalone API reference from the npm
// package, loaded by the /docs page. wrangler runs this before `wrangler dev` and `wrangler deploy`
// ([build] in wrangler.toml), so npm start, npm run bundle, the bench and a deploy all have it.
import { copyFileSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ASSETS_DIR = join(import.meta.dirname, "../public/");

export function buildAssets(): string[] {
  const scalar = fileURLToPath(import.meta.resolve("@scalar/api-reference/browser/standalone.js"));
  const target = `${ASSETS_DIR}docs/scalar.js`;
  mkdirSync(dirname(target), { recursive: true });
  const same = (() => {
    try {
      const [a, b] = [statSync(scalar), statSync(target)];
      return a.size === b.size && a.mtimeMs <= b.mtimeMs;
    } catch {
      return false;
    }
  })();
  if (!same) copyFileSync(scalar, target);
  return [target];
}

if (import.meta.main) buildAssets();
