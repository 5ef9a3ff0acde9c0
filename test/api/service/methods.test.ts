import { beforeAll, describe, expect, it } from "vitest";
import { API_SCOPES } from "../../../src/auth/api-keys.ts";
import { adminKey } from "../../support/admin.ts";
import { ACCOUNT_POSTS, comparableBody } from "../../support/flows.ts";
import { createTestService, type TestService } from "../../support/service.ts";

let t: TestService;
beforeAll(async () => {
  t = await createTestService();
});

const GET_ONLY = ["/health", "/v1/me/events", "/v1/me/export", "/v1/sessions", "/.well-known/jwks.json", "/confirm", "/reset", "/email/confirm", "/email/revert"];

describe("a known path asked with another method", () => {
  it.each(ACCOUNT_POSTS)("GET %s answers 405 with Allow: POST in the one error shape", async (path) => {
    const res = await t.request(path);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(await res.json()).toEqual({
      error: { code: "method_not_allowed", message: "Use POST for this path.", request_id: expect.any(String) },
    });
  });

  it.each(GET_ONLY)("POST %s answers 405 with Allow: GET, HEAD", async (path) => {
    const res = await t.post(path, {});
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect(await comparableBody(res)).toEqual({ error: { code: "method_not_allowed", message: "Use GET or HEAD for this path." } });
  });

  it.each([
    ["PUT", "/v1/login"],
    ["DELETE", "/v1/me/events"],
    ["PATCH", "/v1/password/change"],
  ])("%s %s answers 405", async (method, path) => {
    const res = await t.request(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toMatch(/^(POST|GET, HEAD)$/);
  });

  it("every route the app has answers 405, never 404, to a method it does not take", async () => {
    // The Admin API answers nobody without a key (401 first), so these requests carry one.
    const { key } = await adminKey(t, [...API_SCOPES]);
    const routes = t.app.routes.filter((r) => r.method !== "ALL");
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      const taken = routes.filter((r) => r.path === route.path).map((r) => r.method);
      const other = ["GET", "POST", "PUT", "DELETE"].find((m) => !taken.includes(m))!;
      const headers: Record<string, string> = route.path.startsWith("/admin/") ? { authorization: `Bearer ${key}` } : {};
      const res = await t.request(route.path, { method: other, headers, ...(other === "GET" ? {} : { json: {} }) });
      expect([route.path, other, res.status]).toEqual([route.path, other, 405]);
      expect(res.headers.get("allow")?.split(", ")).toEqual(expect.arrayContaining(taken));
    }
  });
});

describe("the methods a path does take", () => {
  it("answers HEAD where GET is answered", async () => {
    expect((await t.request("/health", { method: "HEAD" })).status).toBe(200);
  });

  it("still answers a CORS preflight", async () => {
    const res = await t.request("/v1/login", {
      method: "OPTIONS",
      headers: { origin: "https://app.example.test", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(204);
  });
});

describe("a path that does not exist", () => {
  it.each([
    ["GET", "/v1/nope"],
    ["POST", "/v1/nope"],
    ["GET", "/v1/login/extra"],
    ["POST", "/v1/me/nope"],
    ["GET", "/webhooks/resend"], // exists only with RESEND_WEBHOOK_SECRET
  ])("%s %s answers 404 not_found", async (method, path) => {
    const res = await t.request(path, { method, ...(method === "POST" ? { json: {} } : {}) });
    expect(res.status).toBe(404);
    expect(res.headers.get("allow")).toBeNull();
    expect(await comparableBody(res)).toEqual({ error: { code: "not_found", message: "Not found." } });
  });
});

describe("the development routes", () => {
  const LOCAL = { ENVIRONMENT: "development", PUBLIC_URL: "http://127.0.0.1:8787", RESEND_API_KEY: "" };

  it("answer 405 on this machine", async () => {
    const dev = await createTestService({ settings: LOCAL });
    const res = await dev.post("/dev/mailbox", {});
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  it("answer any method from another Host exactly like a path that does not exist", async () => {
    const dev = await createTestService({ settings: LOCAL });
    const host = { host: "staging.example.com" };
    const res = await dev.request("/dev/mailbox", { method: "POST", json: {}, headers: host });
    expect(res.status).toBe(404);
    expect(res.headers.get("allow")).toBeNull();
    expect(await comparableBody(res)).toEqual(await comparableBody(await dev.request("/nope", { headers: host })));
  });
});
