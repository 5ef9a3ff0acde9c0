import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { unstable_readConfig } from "wrangler";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Two projects share one global setup (test/global-setup.ts), which starts the local libSQL server,
// the Resend stand-in and the webhook receivers' stand-in and provides their URLs (and the libSQL
// server's token):
// - "node": tests of the local tools (libSQL server conformance) running in Node;
// - "workers": everything else, inside workerd with wrangler.toml's compatibility date and flags.
//
// wrangler.toml is read here, not handed to the plugin as `wrangler.configPath`: that path also
// binds .dev.vars (npm start's generated secrets) into every test Worker and logs "Using secrets
// defined in .dev.vars" once per test file. The tests build all their settings themselves.
const wrangler = unstable_readConfig({ config: "./wrangler.toml" });
// The bundle's module aliases (wrangler.toml [alias]) hold in the tests too, so the SDK paths the
// tests take are the deployed ones (test/api/mail/bundle-stubs.test.ts).
const aliases = Object.fromEntries(
  Object.entries(wrangler.alias ?? {}).map(([name, path]) => [name, fileURLToPath(new URL(String(path), import.meta.url))]),
);

// Some packages (resend's standardwebhooks) publish source maps that name sources they do not
// publish, and Vite warns about each. That one warning is dropped, and only for node_modules.
const quietPackageSourcemaps = {
  name: "quiet-package-sourcemaps",
  configResolved(config: { logger: { warnOnce(msg: string, options?: object): void } }) {
    const warnOnce = config.logger.warnOnce;
    config.logger.warnOnce = (msg, options) => {
      if (/^Sourcemap for ".*\/node_modules\/.*" points to missing source files$/.test(msg)) return;
      warnOnce(msg, options);
    };
  },
};

export default defineConfig({
  test: {
    globalSetup: ["./test/global-setup.ts"],
    // Show what the Worker logs (failures, security events) only for tests that fail.
    silent: "passed-only",
    // Some tests make dozens of full password derivations (lock-out tiers, 1,000 hostile requests);
    // on a busy 2-core machine that outlasts vitest's 5 s default. Speed is the bench's business.
    testTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" },
      },
      {
        extends: true,
        plugins: [
          quietPackageSourcemaps,
          cloudflareTest(({ inject }) => ({
            // Without this, workerd logs every network error our code catches (the tests of an
            // unreachable database or Resend) as an "uncaught exception" block with a stack.
            // Errors nobody catches still fail the run (vitest reports them as unhandled).
            verbose: false,
            miniflare: {
              compatibilityDate: wrangler.compatibility_date,
              compatibilityFlags: wrangler.compatibility_flags,
              // wrangler.toml's text-module rules (the example app's files), and wrangler's own for HTML.
              modulesRules: [
                ...wrangler.rules.map((rule: { type: string; globs: string[]; fallthrough?: boolean }) => ({ type: rule.type, include: rule.globs, fallthrough: rule.fallthrough })),
                { type: "Text", include: ["**/*.html"] },
              ],
              bindings: {
                ENVIRONMENT: "test",
                LIBSQL_BASE_URL: inject<string>("libsqlBaseUrl"),
                LIBSQL_AUTH_TOKEN: inject<string>("libsqlAuthToken"),
                RESEND_STAND_IN_URL: inject<string>("resendBaseUrl"),
                WEBHOOK_STAND_IN_URL: inject<string>("webhookStandInUrl"),
              },
              // Every test request comes from a handful of IPs, so wrangler.toml's per-IP budget
              // (60 POSTs a minute) would cut busy test files short; the STRICT_ pair is what
              // test/api/abuse.ip.test.ts spends (createTestService({ ipBudget: "strict" })).
              ratelimits: {
                IP_RATE_LIMITER: { namespace_id: "1001", simple: { limit: 1_000_000, period: 60 } },
                IP_SITE_RATE_LIMITER: { namespace_id: "1002", simple: { limit: 1_000_000, period: 60 } },
                STRICT_IP_RATE_LIMITER: { namespace_id: "1901", simple: { limit: 5, period: 60 } },
                STRICT_IP_SITE_RATE_LIMITER: { namespace_id: "1902", simple: { limit: 12, period: 60 } },
                ADMIN_RATE_LIMITER: { namespace_id: "1003", simple: { limit: 1_000_000, period: 60 } },
                STRICT_ADMIN_RATE_LIMITER: { namespace_id: "1903", simple: { limit: 3, period: 60 } },
              },
            },
          })),
        ],
        resolve: { alias: aliases },
        test: { name: "workers", include: ["test/**/*.test.ts"], exclude: ["test/node/**", "test/browser/**"] },
      },
    ],
  },
});
