import { afterEach, describe, expect, it } from "vitest";
import { LOCALES } from "../../../src/lib/locale.ts";
import { deliverDueMail } from "../../../src/mail/outbox.ts";
import { comparableBody } from "../../support/flows.ts";
import { setMailFailure, uniqueEmail } from "../../support/mail.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";

// Development runs only on this machine: src/config.ts refuses it with any other PUBLIC_URL.
const LOCAL = { ENVIRONMENT: "development", PUBLIC_URL: "http://127.0.0.1:8787" };
const DEV_PATHS = [
  "/",
  "/dev/mailbox",
  "/dev/mailbox.json",
  `/dev/mailbox/${crypto.randomUUID()}.html`,
  "/dev/emails",
  "/dev/emails/confirm-email?locale=en",
  "/dev/webhooks",
  "/dev/webhooks.json",
  "/dev/passkeys",
];

const TEMPLATES = ["confirm-email", "already-registered", "reset-password", "password-changed"] as const;

interface MailboxEntry {
  id: string;
  to: string;
  template: string;
  locale: string;
  status: string;
  attempts: number;
  last_error: string | null;
  subject: string | null;
  text: string | null;
  html: string | null;
  links: string[];
}

async function mailbox(t: TestService): Promise<MailboxEntry[]> {
  const res = await t.request("/dev/mailbox.json");
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: MailboxEntry[] }).messages;
}

async function register(t: TestService, email: string) {
  expect((await t.post("/v1/register", { email, password: "correct horse battery", name: "Ana" })).status).toBe(202);
  await t.settle();
}

let failingFor: string | null = null;
afterEach(async () => {
  if (failingFor) await setMailFailure({ mode: "none", to: failingFor });
  failingFor = null;
});

describe("GET /dev/mailbox in development without a Resend key", () => {
  it("shows each mail with its status, attempts and links", async () => {
    const t = await createTestService({ settings: { ...LOCAL, RESEND_API_KEY: "" } });
    const email = uniqueEmail("dev");
    await register(t, email);

    const [entry] = (await mailbox(t)).filter((m) => m.to === email);
    expect(entry).toMatchObject({ template: "confirm-email", locale: "en", status: "sent", attempts: 1, last_error: null });
    expect(entry!.subject).toBe("Confirm your email address for Acme");
    expect(entry!.links).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:8787\/confirm#token=[A-Za-z0-9_-]{43}$/)]);

    const page = await t.request("/dev/mailbox");
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain(email);
    expect(html).toContain("status <b>sent</b> · attempts 1");
  });

  it("is a whole document for a phone's screen", async () => {
    const t = await createTestService({ settings: { ...LOCAL, RESEND_API_KEY: "" } });
    const html = await (await t.request("/dev/mailbox")).text();
    expect(html.startsWith("<!doctype html><html lang=\"en\">")).toBe(true);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
  });

  it("shows each mail's HTML as its recipient sees it, with nothing able to run in it", async () => {
    const t = await createTestService({ settings: { ...LOCAL, RESEND_API_KEY: "" } });
    const email = uniqueEmail("dev-html");
    await register(t, email);
    const entry = (await mailbox(t)).find((m) => m.to === email)!;
    expect(await (await t.request("/dev/mailbox")).text()).toContain(`href="/dev/mailbox/${entry.id}.html"`);

    const res = await t.request(`/dev/mailbox/${entry.id}.html`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toMatch(/^default-src 'none'; style-src 'unsafe-inline'/);
    const html = await res.text();
    expect(html).toBe(entry.html);
    expect(html).toContain(`href="${entry.links[0]}"`);
  });

  it.each(["00000000-0000-4000-8000-000000000000.html", "nope.html", "../mailbox.html"])("answers 404 for /dev/mailbox/%s", async (file) => {
    const t = await createTestService({ settings: { ...LOCAL, RESEND_API_KEY: "" } });
    const res = await t.request(`/dev/mailbox/${file}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });
});

describe("GET /dev/mailbox in development with Resend", () => {
  it("shows a mail that is waiting for a retry with its error, then as sent without its content", async () => {
    const clock = new TestClock();
    const t = await createTestService({ clock, settings: LOCAL });
    const email = uniqueEmail("dev-retry");
    failingFor = email;
    await setMailFailure({ mode: "status", status: 500, times: 1, to: email });
    await register(t, email);

    expect((await mailbox(t)).find((m) => m.to === email)).toMatchObject({
      status: "pending",
      attempts: 1,
      last_error: "resend 500 internal_server_error",
    });
    clock.advance(5 * 60_000);
    await deliverDueMail(t.deps);
    // Resend has the mail; the token link is not kept, so the mailbox cannot show it any more.
    const sent = (await mailbox(t)).find((m) => m.to === email)!;
    expect(sent).toMatchObject({ status: "sent", attempts: 2, text: null, html: null, links: [] });
    expect(await (await t.request("/dev/mailbox")).text()).not.toContain(`/dev/mailbox/${sent.id}.html`);
    const view = await t.request(`/dev/mailbox/${sent.id}.html`);
    expect(view.status).toBe(404);
    expect(((await view.json()) as { error: { message: string } }).error.message).toMatch(/not kept/);
  });
});

describe("GET /dev/emails/:template", () => {
  let t: TestService;
  const service = async () => (t ??= await createTestService({ settings: { ...LOCAL, RESEND_API_KEY: "" } }));

  it("lists every template in every locale", async () => {
    const html = await (await (await service()).request("/dev/emails")).text();
    for (const template of TEMPLATES) {
      for (const locale of LOCALES) expect(html).toContain(`/dev/emails/${template}?locale=${locale}`);
    }
  });

  describe.each(TEMPLATES.flatMap((template) => LOCALES.map((locale) => ({ template, locale }))))("$template in $locale", ({ template, locale }) => {
    it("previews the HTML and the text", async () => {
      const s = await service();
      const html = await s.request(`/dev/emails/${template}?locale=${locale}`);
      expect(html.status).toBe(200);
      expect(html.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await html.text()).toContain(`<html lang="${locale}"`);

      const text = await s.request(`/dev/emails/${template}?locale=${locale}&format=text`);
      expect(text.status).toBe(200);
      expect(text.headers.get("content-type")).toMatch(/^text\/plain/);
      const body = await text.text();
      expect(body).toMatch(/^Subject: .*Acme/);
      expect(body).toContain("Ana");
    });
  });

  it("previews in the requested language", async () => {
    const s = await service();
    const subjects = await Promise.all(
      LOCALES.map(async (locale) => (await (await s.request(`/dev/emails/confirm-email?locale=${locale}&format=text`)).text()).split("\n")[0]),
    );
    expect(subjects).toEqual([
      "Subject: Confirm your email address for Acme",
      "Subject: Confirma tu correo electrónico para Acme",
      "Subject: Confirme o e-mail da sua conta Acme",
    ]);
  });

  it.each([
    { path: "/dev/emails/welcome", status: 404, code: "not_found" },
    { path: "/dev/emails/toString", status: 404, code: "not_found" },
    { path: "/dev/emails/confirm-email?locale=fr", status: 400, code: "validation_failed" },
    { path: "/dev/emails/confirm-email?format=pdf", status: 400, code: "validation_failed" },
  ])("$status $code for $path", async ({ path, status, code }) => {
    const res = await (await service()).request(path);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  });
});

describe("the development routes and the Host header", () => {
  let t: TestService;
  const service = async () => (t ??= await createTestService({ settings: { ...LOCAL, RESEND_API_KEY: "" } }));

  it.each(["127.0.0.1:8787", "127.0.0.1", "127.3.2.1:9000", "localhost:8787", "LOCALHOST", "[::1]:8787"])("answer a request for %s", async (host) => {
    const res = await (await service()).request("/dev/mailbox", { headers: { host } });
    expect(res.status).toBe(200);
  });

  // A deployment reached by its own name, or a DNS-rebinding page in a browser on this machine.
  describe.each(["staging.example.com", "127.0.0.1.nip.io:8787", "localhost.evil.test", "0.0.0.0:8787", "[::2]:8787"])("for Host %s", (host) => {
    it.each(DEV_PATHS)("answer %s with a 404 exactly like an unknown path", async (path) => {
      const s = await service();
      const res = await s.request(path, { headers: { host } });
      expect(res.status).toBe(404);
      expect(await comparableBody(res)).toEqual(await comparableBody(await s.request("/nope", { headers: { host } })));
    });
  });
});

describe.each(["test", "production"])("outside development (%s)", (environment) => {
  it.each(DEV_PATHS)("404 for %s", async (path) => {
    const t = await createTestService({ settings: { ENVIRONMENT: environment } });
    const res = await t.request(path);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });
});
