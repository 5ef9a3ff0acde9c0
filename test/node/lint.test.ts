/// <reference types="node" />
// The layer check (npm run lint) on small trees made for it: it must catch what it exists to catch.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkLayers } from "../../tools/lint/layers.ts";
import { checkSourceRules } from "../../tools/lint/source-rules.ts";

const roots: string[] = [];
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "lint-"));
  roots.push(root);
  for (const [path, text] of Object.entries({ "src/index.ts": "", "emails/index.ts": "", "wrangler.toml": 'compatibility_flags = ["nodejs_compat_do_not_populate_process_env"]', ...files })) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe("layers", () => {
  it("accepts imports that point down", () => {
    const root = tree({ "src/routes/a.ts": 'import { x } from "../auth/b.ts";', "src/auth/b.ts": 'import type { Db } from "../db/c.ts";', "src/db/c.ts": "" });
    expect(checkLayers(root)).toEqual([]);
  });

  it("refuses a lower layer importing a higher one, type imports too", () => {
    const root = tree({ "src/auth/a.ts": 'import type { AppEnv } from "../http/b.ts";', "src/http/b.ts": "" });
    expect(checkLayers(root)).toEqual([expect.stringContaining("src/auth/a.ts (auth) imports src/http/b.ts (http)")]);
  });

  it("refuses emails/ importing src/, and anything but src/mail importing emails/", () => {
    const root = tree({
      "emails/a.tsx": 'import type { Locale } from "../src/lib/locale.ts";',
      "src/lib/locale.ts": "",
      "src/routes/b.ts": 'import { renderEmail } from "../../emails/a.tsx";',
    });
    const problems = checkLayers(root);
    expect(problems).toContainEqual(expect.stringContaining("emails/a.tsx (emails) imports src/lib/locale.ts"));
    expect(problems).toContainEqual(expect.stringContaining("only src/mail/ imports emails/"));
  });

  it("refuses an import cycle inside one layer", () => {
    const root = tree({ "src/auth/a.ts": 'import { b } from "./b.ts";', "src/auth/b.ts": 'export { a } from "./a.ts";' });
    expect(checkLayers(root)).toContainEqual(expect.stringMatching(/^import cycle: src\/auth\/(a|b)\.ts/));
  });
});

describe("source rules", () => {
  it("refuses a PBKDF2 count above what production accepts, and process.env", () => {
    const root = tree({ "src/lib/p.ts": "const iterations = 600_000;", "src/config.ts": "const url = process.env.DB_URL;" });
    const problems = checkSourceRules(root);
    expect(problems).toContainEqual(expect.stringContaining("src/lib/p.ts"));
    expect(problems).toContainEqual(expect.stringContaining("src/config.ts: reads process.env"));
  });
});
