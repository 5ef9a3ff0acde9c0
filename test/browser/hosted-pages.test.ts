// The hosted pages in a real browser (Debian's Chromium), against `npm start`: what a person sees
// after clicking a mailed link, and what a link scanner does not do. Run: npm run test:browser (CI
// installs Chromium). Node's test runner reports each check; they run in order. Screenshots of every
// view of every page, at 390 and 1200 px, light and dark, go to .data/screenshots/.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { latestMailedCode, latestMailedLink, postJson, startLocalService, type LinkKind, type LocalService } from "../../tools/local-service.ts";

const PORT = Number(process.env.BROWSER_PORT ?? 8798);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? join(".data", "screenshots");
const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "a new long passphrase";
const APP_NAME = "Acme Notes";

const address = (label: string) => `browser-${label}-${randomBytes(4).toString("hex")}@example.com`;

/** The view of the page that is on screen (`<section data-view>` not hidden). */
async function visibleView(page: Page): Promise<string> {
  return page.locator("section[data-view]:visible").getAttribute("data-view").then((v) => v ?? "");
}

async function waitForView(page: Page, view: string) {
  await page.locator(`section[data-view="${view}"]`).waitFor({ state: "visible", timeout: 10_000 });
}

/** The notice of the form on screen, once it says something matching. */
async function notice(page: Page, expected: RegExp) {
  const box = page.locator("section[data-view]:visible .notice").filter({ hasText: expected });
  await box.waitFor({ timeout: 10_000 });
  return { text: (await box.textContent()) ?? "", className: (await box.getAttribute("class")) ?? "" };
}

// A link that differs from the current page only in its #fragment would not reload the page.
async function open(page: Page, url: string) {
  await page.goto("about:blank");
  await page.goto(url);
}

describe("hosted pages in Chromium", () => {
  let service: LocalService;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];

  const api = (path: string, body: unknown, token?: string) => postJson(service.base, path, body, token);
  const link = (email: string, kind: LinkKind) => latestMailedLink(service.base, email, kind);
  const tokenOf = (url: string) => decodeURIComponent(url.split("#token=")[1]!);

  async function register(email: string) {
    assert.equal((await api("/v1/register", { email, password: PASSWORD, name: "Bea" })).status, 202);
    return link(email, "confirm");
  }

  async function confirmedUser(label: string) {
    const email = address(label);
    const confirmed = await api("/v1/confirm", { token: tokenOf(await register(email)), password: PASSWORD });
    assert.equal(confirmed.status, 200);
    return { email, session: confirmed.body.session as { access_token: string } };
  }

  async function resetLink(email: string) {
    assert.equal((await api("/v1/password/forgot", { email })).status, 202);
    return link(email, "reset");
  }

  async function changeLinks(label: string) {
    const user = await confirmedUser(label);
    const newEmail = address(`${label}-new`);
    assert.equal((await api("/v1/email/change", { new_email: newEmail, password: PASSWORD }, user.session.access_token)).status, 202);
    return { ...user, newEmail, confirm: await link(newEmail, "email/confirm"), revert: await link(user.email, "email/revert") };
  }

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    service = await startLocalService(PORT, { env: { APP_NAME } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    context.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push(msg.text());
    });
    page = await context.newPage();
  });

  // Runs even when before() failed half-way (no Chromium), so npm start never outlives the run.
  after(async () => {
    await browser?.close();
    await service?.stop();
  });

  it("a link scanner that loads every mailed link and runs its scripts for 5 s uses no token", async () => {
    const unconfirmed = address("scanned");
    const confirmLink = await register(unconfirmed);
    const resetUser = await confirmedUser("scanned-reset");
    const reset = await resetLink(resetUser.email);
    const change = await changeLinks("scanned-change");

    const apiCalls: string[] = [];
    const scanner = await browser!.newContext();
    scanner.on("request", (request) => {
      if (new URL(request.url()).pathname.startsWith("/v1/")) apiCalls.push(`${request.method()} ${request.url()}`);
    });
    const pages = await Promise.all([confirmLink, reset, change.confirm, change.revert].map(async (url) => {
      const tab = await scanner.newPage();
      await tab.goto(url);
      return tab;
    }));
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    assert.deepEqual(await Promise.all(pages.map(visibleView)), ["start", "choose", "start", "start"], "each page waits on its first view");
    assert.deepEqual(apiCalls, [], "a page called the API without a click");
    await scanner.close();

    // Every token is still good for the person.
    assert.equal((await api("/v1/confirm", { token: tokenOf(confirmLink), password: PASSWORD })).status, 200);
    assert.equal((await api("/v1/password/reset", { token: tokenOf(reset), password: NEW_PASSWORD })).status, 200);
    assert.equal((await api("/v1/email/change/confirm", { token: tokenOf(change.confirm) })).status, 200);
    assert.equal((await api("/v1/email/change/revert", { token: tokenOf(change.revert) })).status, 200);
  });

  it("the confirmation page refuses a password that is not the registration's, and says so", async () => {
    const email = address("confirm");
    await open(page, await register(email));
    await page.fill("#password", "someone else's password");
    await page.click("#submit");
    assert.match((await notice(page, /not the password/i)).className, /error/);
    assert.ok(!page.url().includes("token="), "the token stayed in the address bar");
    await page.screenshot({ path: join(SCREENSHOTS, "flow-confirm-wrong-password.png"), fullPage: true });

    await page.fill("#password", PASSWORD);
    await page.click("#submit");
    await waitForView(page, "done");
    assert.equal(await page.locator("h1:visible").textContent(), "Your email address is confirmed");
    assert.equal(await page.title(), `Your email address is confirmed · ${APP_NAME}`);
  });

  it("a used confirmation link says it no longer works and offers a new one", async () => {
    const email = address("used");
    const url = await register(email);
    assert.equal((await api("/v1/confirm", { token: tokenOf(url), password: PASSWORD })).status, 200);
    await open(page, url);
    await page.fill("#password", PASSWORD);
    await page.click("#submit");
    await waitForView(page, "expired");
    assert.match((await page.locator(".reason:visible").textContent()) ?? "", /invalid or has expired/);
    await page.fill("#resend-expired-email", email);
    await page.click("#resend-expired button[type=submit]");
    assert.match((await notice(page, /on its way/)).className, /ok/);
  });

  it("the confirmation page without a token asks for the code, which confirms", async () => {
    const email = address("confirm-code");
    await register(email);
    await open(page, `${service.base}/confirm`);
    assert.equal(await visibleView(page), "code");
    await page.fill("#code-email", email);
    await page.fill("#code", await latestMailedCode(service.base, email));
    await page.fill("#code-password", PASSWORD);
    await page.click("#confirm-code button[type=submit]");
    await waitForView(page, "done");
    assert.equal((await api("/v1/login", { email, password: PASSWORD })).status, 200);
  });

  it("/reset without a token is headed Reset your password, sends a link, and takes its code", async () => {
    const { email } = await confirmedUser("reset-code");
    await open(page, `${service.base}/reset`);
    assert.equal(await page.locator("h1:visible").textContent(), "Reset your password");
    assert.equal(await page.title(), `Reset your password · ${APP_NAME}`);
    await page.fill("#email", email);
    await page.click("#request button[type=submit]");
    await waitForView(page, "sent");
    await page.click("section[data-view=sent] .switch");
    await waitForView(page, "code");
    assert.equal(await page.inputValue("#code-email"), email, "the address typed before is filled in");
    await page.fill("#code", await latestMailedCode(service.base, email));
    await page.fill("#code-password", NEW_PASSWORD);
    await page.fill("#code-repeat", NEW_PASSWORD);
    await page.click("#reset-code button[type=submit]");
    await waitForView(page, "done");
    assert.equal((await api("/v1/login", { email, password: NEW_PASSWORD })).status, 200);
  });

  it("the reset link's page checks the repeat, shows the API's refusal, then sets the password", async () => {
    const { email } = await confirmedUser("reset");
    await open(page, await resetLink(email));
    assert.equal(await page.locator("h1:visible").textContent(), "Choose a new password");
    await page.fill("#password", NEW_PASSWORD);
    await page.fill("#repeat", "a different passphrase");
    await page.click("#submit");
    await notice(page, /do not match/);
    await page.fill("#password", "password");
    await page.fill("#repeat", "password");
    await page.click("#submit");
    assert.match((await notice(page, /password/i)).className, /error/);
    await page.screenshot({ path: join(SCREENSHOTS, "flow-reset-weak-password.png"), fullPage: true });
    await page.fill("#password", NEW_PASSWORD);
    await page.fill("#repeat", NEW_PASSWORD);
    await page.click("#submit");
    await waitForView(page, "done");
    assert.equal((await api("/v1/login", { email, password: NEW_PASSWORD })).status, 200);
  });

  it("the new address's page changes the address with one press; the old address's page restores it", async () => {
    const change = await changeLinks("change");
    await open(page, change.confirm);
    await page.click("#submit");
    await waitForView(page, "done");
    assert.equal(await page.locator("#new-address").textContent(), change.newEmail);
    assert.equal((await api("/v1/login", { email: change.newEmail, password: PASSWORD })).status, 200);

    await open(page, change.revert);
    assert.equal(await page.locator("h1:visible").textContent(), "Cancel the email change?");
    await page.click("#submit");
    await waitForView(page, "done");
    assert.equal(await page.locator("#done-title").textContent(), "Your address is restored");
    assert.equal((await api("/v1/login", { email: change.email, password: PASSWORD })).status, 200);
  });

  it("the new address's page takes the code instead, once", async () => {
    const change = await changeLinks("change-code");
    await open(page, `${service.base}/email/confirm`);
    assert.equal(await visibleView(page), "code");
    await page.fill("#code-email", change.newEmail);
    await page.fill("#code", await latestMailedCode(service.base, change.newEmail));
    await page.click("#email-code button[type=submit]");
    await waitForView(page, "done");
    await open(page, change.confirm);
    await page.click("#submit");
    await waitForView(page, "expired");
  });

  it("the pages run under their CSP without violations or errors", () => {
    assert.deepEqual(consoleErrors.filter((e) => !/status of 4\d\d/.test(e)), []);
  });

  it("every view of every page, at 390 and 1200 px, light and dark, is written to .data/screenshots", async () => {
    // A well-formed token nobody holds: the views are shown without posting anything.
    const token = `#token=${"A".repeat(43)}`;
    const views: Array<[string, string, string[], string?]> = [
      ["confirm", `/confirm${token}`, ["start", "start+pending", "code", "resend", "done", "expired"]],
      ["reset", `/reset${token}`, ["choose", "choose+pending", "code", "done", "expired"]],
      ["forgot", "/reset", ["request", "sent"], "If the address has an account, an email with instructions is on its way."],
      ["email-confirm", `/email/confirm${token}`, ["start", "start+pending", "code", "done", "expired"], "ana.new@example.com"],
      ["email-revert", `/email/revert${token}`, ["start", "start+pending", "done", "expired"], "The change is cancelled: your address stays ana@example.com. If you did not ask for it, choose a new password: whoever did knows the current one."],
    ];
    let written = 0;
    for (const [width, height] of [[390, 844], [1200, 900]] as const) {
      for (const colorScheme of ["light", "dark"] as const) {
        const shots = await browser!.newContext({ viewport: { width, height }, colorScheme });
        const tab = await shots.newPage();
        for (const [name, path, names, sample] of views) {
          for (const view of names) {
            await open(tab, `${service.base}${path}`);
            await tab.evaluate(
              ([v, text]) => {
                // Runs in the page: its script's show() and the DOM (the tools' types know neither).
                type Element = { textContent: string; disabled: boolean; dataset: Record<string, string>; setAttribute(name: string, value: string): void };
                const page = globalThis as unknown as {
                  show(name: string): void;
                  document: { getElementById(id: string): Element | null; querySelector(selector: string): Element | null };
                };
                for (const id of ["new-address", "done-message", "sent-message"]) {
                  const el = page.document.getElementById(id);
                  if (el && text) el.textContent = text;
                }
                const [name, pending] = v!.split("+");
                page.show(name!);
                // The pending state: what a press shows while the request runs.
                const button = pending ? page.document.querySelector("section[data-view]:not([hidden]) button[type=submit]") : null;
                if (button) {
                  button.disabled = true;
                  button.setAttribute("aria-busy", "true");
                  button.textContent = button.dataset.busy ?? button.textContent;
                }
              },
              [view, sample],
            );
            await tab.screenshot({ path: join(SCREENSHOTS, `${name}-${view.replace("+", "-")}-${width}-${colorScheme}.png`), fullPage: true, animations: "disabled" });
            written++;
          }
        }
        await shots.close();
      }
    }
    assert.equal(written, 4 * 22);
  });
});
