import { describe, expect, it } from "vitest";
import { PASSWORD } from "../../support/flows.ts";
import { uniqueEmail } from "../../support/mail.ts";
import { createTestService, type TestService } from "../../support/service.ts";

// Development as npm start runs it: loopback PUBLIC_URL, no Resend key (the dev mailbox), and no
// ALLOWED_ORIGINS or LOGIN_URL unless a test sets them.
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

interface MailboxEntry {
  to: string;
  template: string;
  links: string[];
}

async function alreadyRegisteredLoginLink(t: TestService): Promise<string> {
  const email = uniqueEmail("landing");
  for (let i = 0; i < 2; i++) {
    expect((await t.post("/v1/register", { email, password: PASSWORD })).status).toBe(202);
    await t.settle();
    if (i === 0) {
      const confirm = (await mailbox(t)).find((m) => m.to === email)!.links[0]!;
      const token = new URL(confirm).hash.replace("#token=", "");
      expect((await t.post("/v1/confirm", { token, password: PASSWORD })).status).toBe(200);
    }
  }
  const mail = (await mailbox(t)).find((m) => m.to === email && m.template === "already-registered");
  return mail!.links[0]!;
}

async function mailbox(t: TestService): Promise<MailboxEntry[]> {
  return ((await (await t.request("/dev/mailbox.json")).json()) as { messages: MailboxEntry[] }).messages;
}

describe("LOGIN_URL in development", () => {
  it("links the 'already registered' mail to a landing page that leads to the mailbox and the previews", async () => {
    const t = await createTestService({ settings: DEV });
    const login = await alreadyRegisteredLoginLink(t);
    expect(new URL(login).origin).toBe("http://127.0.0.1:8787");

    const page = await t.request(new URL(login).pathname);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"');
    expect(html).toContain('href="/dev/mailbox"');
    expect(html).toContain('href="/dev/emails"');
    expect(html).toContain("http://localhost:5173");
    // This build serves the example app in development, and the API reference.
    expect(html).toContain('href="/example"');
    expect(html).toContain('href="/docs"');
  });

  it("links where LOGIN_URL says once it is set, and the landing page stays", async () => {
    const t = await createTestService({ settings: { ...DEV, LOGIN_URL: "http://localhost:5173/login" } });
    expect(await alreadyRegisteredLoginLink(t)).toBe("http://localhost:5173/login");
    expect((await t.request("/")).status).toBe(200);
  });

  it.each(["production", "test"])("has no landing page in %s", async (environment) => {
    const t = await createTestService({ settings: { ENVIRONMENT: environment } });
    const res = await t.request("/");
    expect(res.status).toBe(404);
  });
});
