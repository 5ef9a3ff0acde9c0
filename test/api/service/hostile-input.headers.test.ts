import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { users } from "../../../src/db/schema.ts";
import { createTestService, type TestService } from "../../support/service.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { ACCOUNT_POSTS, errorCode, PASSWORD } from "../../support/flows.ts";

const APP_ORIGIN = "https://app.example.test";
let t: TestService;
beforeAll(async () => {
  t = await createTestService();
});

function post(path: string, body: string, contentType = "application/json", ip = "192.0.2.10") {
  return t.request(path, { method: "POST", body, headers: { "content-type": contentType, "cf-connecting-ip": ip } });
}

describe("secure headers on every response", () => {
  const requests: Array<[string, () => Promise<Response>]> = [
    ["health", () => t.request("/health")],
    ["JWKS", () => t.request("/.well-known/jwks.json")],
    ["hosted confirm page", () => t.request("/confirm")],
    ["hosted reset page", () => t.request("/reset")],
    ["404 outside /v1", () => t.request("/nowhere")],
    ["404 under /v1", () => t.request("/v1/nowhere")],
    ["401 from /v1/me", () => t.request("/v1/me")],
    ["400 validation", () => post("/v1/login", "{}")],
    ["415", () => post("/v1/login", "x", "text/plain")],
    ["413", () => post("/v1/login", JSON.stringify({ email: "x".repeat(20_000) }))],
    ["CORS preflight", () => t.request("/v1/login", { method: "OPTIONS", headers: { origin: APP_ORIGIN, "access-control-request-method": "POST" } })],
  ];

  it.each(requests)("%s", async (_label, run) => {
    const res = await run();
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(res.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(res.headers.get("x-powered-by")).toBeNull();
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("also on a 429", async () => {
    const strict = await createTestService({ ipBudget: "strict" });
    const ip = `198.19.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    let res: Response | undefined;
    for (let i = 0; i < 30 && res?.status !== 429; i++) {
      res = await strict.request("/v1/password/forgot", {
        method: "POST",
        json: { email: uniqueEmail() },
        headers: { "cf-connecting-ip": ip },
      });
    }
    expect(res!.status).toBe(429);
    expect(res!.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res!.headers.get("cache-control")).toBe("no-store");
  });
});

describe("Cache-Control: no-store on everything under /v1", () => {
  it.each([
    ["a token response", () => post("/v1/login", JSON.stringify({ email: uniqueEmail(), password: PASSWORD }), "application/json", "192.0.2.11")],
    ["an error", () => post("/v1/login", "{")],
    ["a GET with a bad token", () => t.request("/v1/me", { token: "nope" })],
    ["an unknown path", () => t.request("/v1/nowhere")],
    ["a preflight", () => t.request("/v1/login", { method: "OPTIONS", headers: { origin: APP_ORIGIN, "access-control-request-method": "POST" } })],
  ])("%s", async (_label, run) => {
    expect((await run()).headers.get("cache-control")).toBe("no-store");
  });

  it("while public keys may be cached", async () => {
    expect((await t.request("/.well-known/jwks.json")).headers.get("cache-control")).toMatch(/^public/);
  });
});

describe("CORS only for ALLOWED_ORIGINS", () => {
  const preflight = (origin: string) =>
    t.request("/v1/login", {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" },
    });

  it("answers a preflight from the configured origin, without credentials", async () => {
    const res = await preflight(APP_ORIGIN);
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP_ORIGIN);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("gives other origins nothing to read with", async () => {
    for (const origin of ["https://evil.example.test", "https://app.example.test.evil.test", "null", "http://app.example.test"]) {
      expect((await preflight(origin)).headers.get("access-control-allow-origin"), origin).toBeNull();
      const res = await t.request("/v1/me", { headers: { origin } });
      expect(res.headers.get("access-control-allow-origin"), origin).toBeNull();
    }
  });

  it("is off outside the API", async () => {
    const res = await t.request("/health", { headers: { origin: APP_ORIGIN } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("input guards on every POST endpoint", () => {
  it.each(ACCOUNT_POSTS)("%s: 415 for non-JSON, 413 over 16 KiB, 400 for malformed JSON", async (path) => {
    const wrongType = await post(path, "email=a", "application/x-www-form-urlencoded");
    expect([wrongType.status, await errorCode(wrongType)]).toEqual([415, "unsupported_media_type"]);
    const big = await post(path, JSON.stringify({ pad: "x".repeat(16 * 1024) }));
    expect([big.status, await errorCode(big)]).toEqual([413, "payload_too_large"]);
    const malformed = await post(path, '{"email": ');
    expect([malformed.status, await errorCode(malformed)]).toEqual([400, "malformed_json"]);
  });

  it("DELETE /v1/me gets the same guards (it carries the password)", async () => {
    const del = (body: string, contentType = "application/json") =>
      t.request("/v1/me", { method: "DELETE", body, headers: { "content-type": contentType, authorization: "Bearer x" } });
    const wrongType = await del("password=a", "application/x-www-form-urlencoded");
    expect([wrongType.status, await errorCode(wrongType)]).toEqual([415, "unsupported_media_type"]);
    const big = await del(JSON.stringify({ pad: "x".repeat(16 * 1024) }));
    expect([big.status, await errorCode(big)]).toEqual([413, "payload_too_large"]);
    const malformed = await del('{"password": ');
    expect([malformed.status, await errorCode(malformed)]).toEqual([400, "malformed_json"]);
  });

  it("ignores unknown fields: no roles or confirmation can be smuggled into a registration", async () => {
    const email = uniqueEmail("smuggle");
    const res = await t.post("/v1/register", {
      email,
      password: PASSWORD,
      roles: ["admin"],
      email_confirmed: true,
      emailConfirmedAt: 1,
      id: "00000000-0000-0000-0000-000000000000",
      __proto__: { admin: true },
    });
    expect(res.status).toBe(202);
    expect(await t.deps.db.select().from(users).where(eq(users.email, email))).toEqual([]);
    await t.settle();
    expect((await t.post("/v1/confirm", { token: tokenFrom((await mailsTo(email))[0]), password: PASSWORD })).status).toBe(200);
    const [user] = await t.deps.db.select().from(users).where(eq(users.email, email));
    expect(user).toMatchObject({ roles: ["user"] });
    expect(user!.id).not.toBe("00000000-0000-0000-0000-000000000000");
  });

  it("accepts an address of 254 characters and refuses one of 255", async () => {
    const domain = "@example.test";
    const local = (n: number) => `${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(n - 183 - domain.length)}`;
    const ok = `${local(254)}${domain}`;
    const tooLong = `${local(255)}${domain}`;
    expect([ok.length, tooLong.length]).toEqual([254, 255]);
    expect((await post("/v1/password/forgot", JSON.stringify({ email: ok }), "application/json", "192.0.2.12")).status).toBe(202);
    const refused = await post("/v1/password/forgot", JSON.stringify({ email: tooLong }), "application/json", "192.0.2.12");
    expect([refused.status, await errorCode(refused)]).toEqual([400, "validation_failed"]);
  });
});
