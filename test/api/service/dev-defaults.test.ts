import { describe, expect, it } from "vitest";
import { uniqueEmail } from "../../support/mail.ts";
import { createTestService, type TestService } from "../../support/service.ts";

// Development as npm start runs it: loopback PUBLIC_URL, no Resend key (the dev mailbox), and no
// ALLOWED_ORIGINS unless a test sets it.
const DEV = { ENVIRONMENT: "development", PUBLIC_URL: "http://127.0.0.1:8787", RESEND_API_KEY: "", ALLOWED_ORIGINS: "" };

async function allowedOrigin(t: TestService, origin: string) {
  const res = await t.request("/v1/login", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
  return res.headers.get("access-control-allow-origin");
}

describe("CORS in development without ALLOWED_ORIGINS", () => {
  const LOCAL_SPAS = ["5173", "3000", "8080"].flatMap((port) => [`http://localhost:${port}`, `http://127.0.0.1:${port}`]);

  it.each(LOCAL_SPAS)("admits a single-page app's dev server at %s", async (origin) => {
    const t = await createTestService({ settings: DEV });
    expect(await allowedOrigin(t, origin)).toBe(origin);
    // And a real request from it, not only the preflight.
    const fromSpa = await t.request("/v1/password/forgot", { method: "POST", json: { email: uniqueEmail("cors") }, headers: { origin } });
    expect(fromSpa.status).toBe(202);
    expect(fromSpa.headers.get("access-control-allow-origin")).toBe(origin);
  });

  it.each(["http://localhost:5174", "https://localhost:5173", "http://example.test:3000", "http://127.0.0.1:8787"])(
    "admits no other origin (%s)",
    async (origin) => {
      const t = await createTestService({ settings: DEV });
      expect(await allowedOrigin(t, origin)).toBeNull();
    },
  );
});

describe("CORS when ALLOWED_ORIGINS is set, or outside development", () => {
  it("admits exactly the configured origins in development", async () => {
    const t = await createTestService({ settings: { ...DEV, ALLOWED_ORIGINS: "http://localhost:4200" } });
    expect(await allowedOrigin(t, "http://localhost:4200")).toBe("http://localhost:4200");
    expect(await allowedOrigin(t, "http://localhost:5173")).toBeNull();
  });

  it.each(["production", "test"])("admits no local dev server in %s", async (environment) => {
    const t = await createTestService({ settings: { ENVIRONMENT: environment, ALLOWED_ORIGINS: "" } });
    expect(await allowedOrigin(t, "http://localhost:5173")).toBeNull();
  });
});
