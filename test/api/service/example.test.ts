import { describe, expect, it } from "vitest";
import { createTestService } from "../../support/service.ts";

// The example SPA (src/routes/example.ts): served in development only, under a CSP of its own.
const LOCAL = { ENVIRONMENT: "development", PUBLIC_URL: "http://127.0.0.1:8787", RESEND_API_KEY: "" };
const PATHS = ["/example", "/example/confirm", "/example/app.js", "/example/edge-auth.js", "/example/style.css"];

describe("the example SPA in development", () => {
  it.each([
    ["/example", "text/html", "<title>edge-auth example</title>"],
    ["/example/confirm", "text/html", 'src="/example/app.js"'],
    ["/example/app.js", "text/javascript", 'from "/example/edge-auth.js"'],
    ["/example/edge-auth.js", "text/javascript", "function createAuthClient("],
    ["/example/style.css", "text/css", "body {"],
  ])("serves %s as %s", async (path, type, excerpt) => {
    const t = await createTestService({ settings: LOCAL });
    const res = await t.request(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain(type);
    expect(await res.text()).toContain(excerpt);
  });

  it.each(PATHS)("allows %s scripts, styles and requests from its own origin only", async (path) => {
    const t = await createTestService({ settings: LOCAL });
    const csp = (await t.request(path)).headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toMatch(/unsafe|\*|https?:/);
  });
});

describe.each(["test", "production"])("outside development (%s)", (environment) => {
  it.each(PATHS)("404 for %s", async (path) => {
    const t = await createTestService({ settings: { ENVIRONMENT: environment } });
    expect((await t.request(path)).status).toBe(404);
  });
});

describe("the example app stays on this machine", () => {
  it("answers 404 to a request whose Host is not loopback, like the other development pages", async () => {
    const s = await createTestService({ settings: LOCAL });
    expect((await s.app.request("http://127.0.0.1:8787/example")).status).toBe(200);
    expect((await s.app.request("http://127.0.0.1:8787/example", { headers: { host: "staging.example.com" } })).status).toBe(404);
  });
});
