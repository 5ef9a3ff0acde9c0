// The hosted /confirm and /reset pages in a real browser (Debian's Chromium), against `npm start`:
// what a person sees after clicking the mailed links. Run: npm run test:browser (CI installs Chromium).
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { latestMailedLink, postJson, startLocalService } from "../../tools/local-service.ts";

const PORT = Number(process.env.BROWSER_PORT ?? 8798);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const results: Array<{ name: string; error?: string }> = [];

async function check(name: string, run: () => Promise<void>) {
  try {
    await run();
    results.push({ name });
    console.log(`ok   ${name}`);
  } catch (err) {
    results.push({ name, error: err instanceof Error ? err.message : String(err) });
    console.log(`FAIL ${name}: ${results.at(-1)!.error}`);
  }
}

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

async function main() {
  const service = await startLocalService(PORT);
  // Launched inside the try, so a missing Chromium still stops npm start.
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    const page = await browser.newPage();
    const cspErrors: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error") cspErrors.push(msg.text());
    });
    const email = `browser-${randomBytes(4).toString("hex")}@example.com`;
    await postJson(service.base, "/v1/register", { email, password: "correct horse battery", name: "Bea" });

    const confirmLink = await latestMailedLink(service.base, email, "confirm");
    await check("a page left open with its scripts running (a link scanner) does not use the token", async () => {
      await open(page, confirmLink);
      await page.waitForTimeout(5_000);
      const status = (await page.locator("#status").textContent()) ?? "";
      if (status) throw new Error(`the page said "${status}" without a click`);
      const login = await postJson(service.base, "/v1/login", { email, password: "correct horse battery" });
      if (login.status !== 403) throw new Error(`login answered ${login.status}, expected 403 email_not_confirmed`);
    });

    await check("the confirmation page refuses a password that is not the registration's", async () => {
      await open(page, confirmLink);
      await page.fill("#password", "someone else's password");
      await page.click("#submit");
      const { className } = await statusText(page, /not the password/i);
      if (className !== "error") throw new Error(`status class ${className}`);
    });

    await check("the confirmation page confirms with the registration's password and says so", async () => {
      await page.fill("#password", "correct horse battery");
      await page.click("#submit");
      const { className } = await statusText(page, /confirmed/i);
      if (className !== "ok") throw new Error(`status class ${className}`);
      if (page.url().includes("token=")) throw new Error("the token stayed in the address bar");
      if (await page.locator("#form").isVisible()) throw new Error("the form stayed on screen");
    });

    await check("the same confirmation link a second time shows the API's refusal", async () => {
      await open(page, confirmLink);
      await page.fill("#password", "correct horse battery");
      await page.click("#submit");
      const { className } = await statusText(page, /invalid|expired/i);
      if (className !== "error") throw new Error(`status class ${className}`);
    });

    await check("the reset page without a token asks for the address and requests a link", async () => {
      await open(page, `${service.base}/reset`);
      await page.fill("#email", email);
      await page.click("#request button");
      await statusText(page, /on its way/i);
    });

    const resetLink = await latestMailedLink(service.base, email, "reset");
    await check("the reset page refuses two different passwords before posting", async () => {
      await open(page, resetLink);
      await page.fill("#password", "a new long passphrase");
      await page.fill("#repeat", "a different passphrase");
      await page.click("#submit");
      await statusText(page, /do not match/i);
    });

    await check("the reset page shows the API's message for a weak password", async () => {
      await page.fill("#password", "password");
      await page.fill("#repeat", "password");
      await page.click("#submit");
      await statusText(page, /password/i);
      const { className } = await statusText(page, /./);
      if (className !== "error") throw new Error(`status class ${className}`);
    });

    await check("the reset page sets the new password, and it logs in", async () => {
      await page.fill("#password", "a new long passphrase");
      await page.fill("#repeat", "a new long passphrase");
      await page.click("#submit");
      await statusText(page, /changed/i);
      const login = await postJson(service.base, "/v1/login", { email, password: "a new long passphrase" });
      if (login.status !== 200) throw new Error(`login answered ${login.status}`);
      await page.screenshot({ path: join(tmpdir(), "edge-auth-reset-done.png") });
    });

    await check("the pages run under their CSP without violations", async () => {
      const violations = cspErrors.filter((e) => /Content Security Policy/i.test(e));
      if (violations.length > 0) throw new Error(violations.join("; "));
    });
  } finally {
    await browser?.close();
    await service.stop();
  }
  const failed = results.filter((r) => r.error).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  if (failed > 0) process.exit(1);
}

await main();
