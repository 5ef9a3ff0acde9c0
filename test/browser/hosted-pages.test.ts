// The hosted /confirm and /reset pages in a real browser (Debian's Chromium), against `npm start`:
// what a person sees after clicking the mailed links. Run: npm run test:browser (CI installs Chromium).
// Node's test runner reports each check; they run in order, on one page, as a person would go.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { latestMailedLink, postJson, startLocalService, type LocalService } from "../../tools/local-service.ts";

const PORT = Number(process.env.BROWSER_PORT ?? 8798);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const PASSWORD = "correct horse battery";

async function statusText(page: Page, expected: RegExp) {
  const status = page.locator("#status");
  await status.filter({ hasText: expected }).waitFor({ timeout: 10_000 });
  return { text: (await status.textContent()) ?? "", className: (await status.getAttribute("class")) ?? "" };
}

// A link that differs from the current page only in its #fragment would not reload the page.
async function open(page: Page, url: string) {
  await page.goto("about:blank");
  await page.goto(url);
}

describe("hosted pages in Chromium", () => {
  let service: LocalService;
  let browser: Browser | undefined;
  let page: Page;
  const consoleErrors: string[] = [];
  const email = `browser-${randomBytes(4).toString("hex")}@example.com`;
  let confirmLink: string;
  let resetLink: string;

  before(async () => {
    service = await startLocalService(PORT);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    page = await browser.newPage();
    page.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push(msg.text());
    });
    await postJson(service.base, "/v1/register", { email, password: PASSWORD, name: "Bea" });
    confirmLink = await latestMailedLink(service.base, email, "confirm");
  });

  // Runs even when before() failed half-way (no Chromium), so npm start never outlives the run.
  after(async () => {
    await browser?.close();
    await service?.stop();
  });

  it("a page left open with its scripts running (a link scanner) does not use the token", async () => {
    await open(page, confirmLink);
    await page.waitForTimeout(5_000);
    assert.equal((await page.locator("#status").textContent()) ?? "", "", "the page said something without a click");
    const login = await postJson(service.base, "/v1/login", { email, password: PASSWORD });
    assert.equal(login.status, 403, "login before confirming answers 403 email_not_confirmed");
  });

  it("the confirmation page refuses a password that is not the registration's", async () => {
    await open(page, confirmLink);
    await page.fill("#password", "someone else's password");
    await page.click("#submit");
    assert.equal((await statusText(page, /not the password/i)).className, "error");
  });

  it("the confirmation page confirms with the registration's password and says so", async () => {
    await page.fill("#password", PASSWORD);
    await page.click("#submit");
    assert.equal((await statusText(page, /confirmed/i)).className, "ok");
    assert.ok(!page.url().includes("token="), "the token stayed in the address bar");
    assert.ok(!(await page.locator("#form").isVisible()), "the form stayed on screen");
  });

  it("the same confirmation link a second time shows the API's refusal", async () => {
    await open(page, confirmLink);
    await page.fill("#password", PASSWORD);
    await page.click("#submit");
    assert.equal((await statusText(page, /invalid|expired/i)).className, "error");
  });

  it("the reset page without a token asks for the address and requests a link", async () => {
    await open(page, `${service.base}/reset`);
    await page.fill("#email", email);
    await page.click("#request button");
    await statusText(page, /on its way/i);
    resetLink = await latestMailedLink(service.base, email, "reset");
  });

  it("the reset page refuses two different passwords before posting", async () => {
    await open(page, resetLink);
    await page.fill("#password", "a new long passphrase");
    await page.fill("#repeat", "a different passphrase");
    await page.click("#submit");
    await statusText(page, /do not match/i);
  });

  it("the reset page shows the API's message for a weak password", async () => {
    await page.fill("#password", "password");
    await page.fill("#repeat", "password");
    await page.click("#submit");
    await statusText(page, /password/i);
    assert.equal((await statusText(page, /./)).className, "error");
  });

  it("the reset page sets the new password, and it logs in", async () => {
    await page.fill("#password", "a new long passphrase");
    await page.fill("#repeat", "a new long passphrase");
    await page.click("#submit");
    await statusText(page, /changed/i);
    const login = await postJson(service.base, "/v1/login", { email, password: "a new long passphrase" });
    assert.equal(login.status, 200);
    await page.screenshot({ path: join(tmpdir(), "edge-auth-reset-done.png") });
  });

  it("the pages run under their CSP without violations", () => {
    assert.deepEqual(consoleErrors.filter((e) => /Content Security Policy/i.test(e)), []);
  });
});
