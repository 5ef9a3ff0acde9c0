/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { createPasswordHasher, parsePasswordHash, PBKDF2_MAX_ITERATIONS } from "../../src/lib/crypto/password.ts";

// Sources of the Worker, bundled by Vite at test time (workerd has no file system to read them).
const sources = import.meta.glob(["../../src/**/*.ts", "../../src/**/*.tsx", "../../emails/**/*.tsx", "../../emails/**/*.ts"], {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

const wranglerToml = Object.values(
  import.meta.glob("../../wrangler.toml", { query: "?raw", import: "default", eager: true }) as Record<string, string>,
)[0]!;

describe("production limits that local workerd does not enforce", () => {
  it("never derives a password hash with more than 100,000 PBKDF2 iterations", async () => {
    expect(PBKDF2_MAX_ITERATIONS).toBeLessThanOrEqual(100_000);
    const hasher = await createPasswordHasher({ pepper: "p".repeat(32), pepperId: "p1" });
    expect(parsePasswordHash(await hasher.hash("some password"))!.iterations).toBeLessThanOrEqual(100_000);
    await expect(createPasswordHasher({ pepper: "p".repeat(32), pepperId: "p1", iterations: 100_001 })).rejects.toThrow();
  });

  it("has no literal iteration count above 100,000 anywhere in the Worker's sources", () => {
    expect(Object.keys(sources).length).toBeGreaterThan(20);
    for (const [file, text] of Object.entries(sources)) {
      for (const match of text.matchAll(/iterations?[^0-9\n]{0,30}([0-9][0-9_]{5,})/gi)) {
        expect(Number(match[1]!.replaceAll("_", "")), `${file}: ${match[0]}`).toBeLessThanOrEqual(100_000);
      }
    }
  });

  it("reads configuration from env bindings only, never process.env", () => {
    for (const [file, text] of Object.entries(sources)) {
      const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
      expect(code, file).not.toMatch(/process\s*\.\s*env|process\s*\[\s*["']env["']\s*\]/);
    }
  });

  it("deploys with process.env left empty, so a stray read finds nothing rather than a secret", () => {
    expect(wranglerToml).toMatch(/compatibility_flags\s*=\s*\[[^\]]*"nodejs_compat_do_not_populate_process_env"/);
  });
});
