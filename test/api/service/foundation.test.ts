import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index.ts";
import { createTestService, PUBLIC_URL, testSigningKeys } from "../../support/service.ts";

async function workerEnv(overrides: Record<string, string | undefined> = {}) {
  const base: Record<string, string | undefined> = {
    ENVIRONMENT: "test",
    PUBLIC_URL,
    DB_URL: `${env.LIBSQL_BASE_URL.replace(/\/$/, "")}/db/foundation/`,
    DB_AUTH_TOKEN: env.LIBSQL_AUTH_TOKEN,
    JWT_SIGNING_KEYS: await testSigningKeys(),
    PASSWORD_PEPPER: "foundation-pepper-0123456789abcdefghij",
    ...overrides,
  };
  // Undefined marks a setting or binding left out; call() drops it after adding the bindings.
  return base;
}

function call(path: string, settings: Record<string, unknown>) {
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
  const bindings = Object.fromEntries(
    Object.entries({ IP_RATE_LIMITER: env.IP_RATE_LIMITER, IP_SITE_RATE_LIMITER: env.IP_SITE_RATE_LIMITER, ADMIN_RATE_LIMITER: env.ADMIN_RATE_LIMITER, ...settings }).filter(([, v]) => v !== undefined),
  );
  return worker.fetch(new Request(`${PUBLIC_URL}${path}`) as Request<unknown, IncomingRequestCfProperties>, bindings, ctx);
}

describe("the Worker entry", () => {
  it("answers /health with 200 when the database answers", async () => {
    const res = await call("/health", await workerEnv());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("answers 503 db_unavailable in the error shape when the database is unreachable", async () => {
    // A port nothing listens on: the libSQL server "stopped".
    const res = await call("/health", await workerEnv({ DB_URL: "http://127.0.0.1:9/" }));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string; request_id: string } };
    expect(body.error).toMatchObject({ code: "db_unavailable", request_id: expect.any(String) });
  });

  it.each([
    ["PUBLIC_URL", { PUBLIC_URL: undefined }],
    ["DB_URL", { DB_URL: "not a url" }],
    ["PASSWORD_PEPPER", { PASSWORD_PEPPER: "short" }],
    ["JWT_SIGNING_KEYS", { JWT_SIGNING_KEYS: '[{"kty":"oct","k":"c2VjcmV0"}]' }],
    ["RESEND_API_KEY", { ENVIRONMENT: "production" }],
    // Development routes (the mailbox shows every token link) must not run on a reachable address.
    ["ENVIRONMENT", { ENVIRONMENT: "development", PUBLIC_URL: "https://staging.example.com" }],
    // The per-IP budget is a binding: a deployment without it would have no limit at all.
    ["IP_RATE_LIMITER", { IP_RATE_LIMITER: undefined }],
  ])("answers every request with 500 bad_environment naming %s when it is missing or invalid", async (setting, overrides) => {
    const bindings = await workerEnv(overrides);
    for (const path of ["/health", "/v1/me"]) {
      const res = await call(path, bindings);
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("bad_environment");
      expect(body.error.message).toContain(setting);
      expect(body.error.message).not.toContain("c2VjcmV0");
    }
  });
});

describe("the one error shape", () => {
  it("answers unknown paths with 404 not_found", async () => {
    const t = await createTestService();
    const res = await t.request("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "not_found", message: "Not found.", request_id: expect.any(String) } });
  });

  it("turns an unexpected failure into a generic 500 without the internal message", async () => {
    const broken = async () => {
      throw new Error("secret internal detail");
    };
    const t = await createTestService({ deps: { passwords: { hash: broken, verify: broken, burn: broken, matchAny: broken } } });
    const res = await t.post("/v1/register", { email: "someone@example.test", password: "a perfectly long password" });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: "internal_error", message: "Something went wrong on our side.", request_id: expect.any(String) },
    });
    expect(text).not.toContain("secret internal detail");
  });
});
