import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index.ts";
import { createTestService, PUBLIC_URL, testSigningKeys } from "../../support/service.ts";

// The routes `npm run bench` measures against (bare route, one password derivation) exist only when
// asked for, and only in development.
describe("bench routes", () => {
  it("do not exist unless BENCH_ROUTES=true", async () => {
    const t = await createTestService({ settings: { ENVIRONMENT: "development", PUBLIC_URL: "http://127.0.0.1:8787" } });
    for (const path of ["/bench/bare", "/bench/hash"]) {
      const res = await t.request(path);
      expect(res.status).toBe(404);
    }
  });

  it("answer in development with BENCH_ROUTES=true, without touching the database", async () => {
    const t = await createTestService({ settings: { ENVIRONMENT: "development", PUBLIC_URL: "http://127.0.0.1:8787", BENCH_ROUTES: "true" } });
    for (const path of ["/bench/bare", "/bench/hash"]) {
      const before = await t.dbRoundTrips();
      const res = await t.request(path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true });
      expect((await t.dbRoundTrips()) - before).toBe(0);
    }
  });

  // The bench's yardstick for one libSQL round trip, now that /health reuses its probe.
  it("answer /bench/db with exactly one libSQL round trip every time", async () => {
    const t = await createTestService({ settings: { ENVIRONMENT: "development", PUBLIC_URL: "http://127.0.0.1:8787", BENCH_ROUTES: "true" } });
    const before = await t.dbRoundTrips();
    for (let i = 0; i < 3; i++) expect((await t.request("/bench/db")).status).toBe(200);
    expect((await t.dbRoundTrips()) - before).toBe(3);
  });

  it.each(["production", "test"])("refuse to start with BENCH_ROUTES=true in %s", async (environment) => {
    const bindings = {
      ENVIRONMENT: environment,
      PUBLIC_URL,
      DB_URL: `${env.LIBSQL_BASE_URL.replace(/\/$/, "")}/db/bench_routes/`,
      JWT_SIGNING_KEYS: await testSigningKeys(),
      PASSWORD_PEPPER: "bench-routes-pepper-0123456789abcdefgh",
      RESEND_API_KEY: "re_test_bench",
      BENCH_ROUTES: "true",
      IP_RATE_LIMITER: env.IP_RATE_LIMITER,
      IP_SITE_RATE_LIMITER: env.IP_SITE_RATE_LIMITER,
      ADMIN_RATE_LIMITER: env.ADMIN_RATE_LIMITER,
    };
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const res = await worker.fetch(
      new Request(`${PUBLIC_URL}/bench/bare`) as Request<unknown, IncomingRequestCfProperties>,
      bindings,
      ctx,
    );
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("bad_environment");
    expect(body.error.message).toContain("BENCH_ROUTES");
  });
});
