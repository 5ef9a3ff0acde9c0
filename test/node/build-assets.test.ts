import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_readConfig } from "wrangler";
import { describe, expect, it } from "vitest";
import { ASSETS_DIR, buildAssets } from "../../tools/build-assets.ts";

// /docs loads /docs/scalar.js, which Cloudflare answers from the Worker's static assets: the build
// must put Scalar's bundle where wrangler.toml's [assets] looks, and wrangler must run that build.
describe("static assets", () => {
  const config = unstable_readConfig({ config: join(import.meta.dirname, "../../wrangler.toml") });

  it("puts Scalar's standalone bundle at docs/scalar.js of the assets directory wrangler.toml names", () => {
    const [written] = buildAssets();
    expect(written).toBe(join(import.meta.dirname, "../..", config.assets!.directory!, "docs/scalar.js"));
    expect(written!.startsWith(ASSETS_DIR)).toBe(true);
    const scalar = fileURLToPath(import.meta.resolve("@scalar/api-reference/browser/standalone.js"));
    expect(readFileSync(written!).equals(readFileSync(scalar))).toBe(true);
  });

  it("is built by wrangler before dev and deploy", () => {
    expect(config.build.command).toBe("node tools/build-assets.ts");
  });
});
