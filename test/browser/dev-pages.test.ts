// The development pages in a real browser (Debian's Chromium) on a phone-sized screen, against
// `npm start`: the landing page, the dev mailbox and one mail's HTML. Run: npm run test:browser.
// Each page is screenshotted to the temporary directory (the path is printed) for a person to look at.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { postJson, startLocalService, type LocalService } from "../../tools/local-service.ts";

const PORT = Number(process.env.BROWSER_DEV_PORT ?? 8799);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const PHONE = { width: 390, height: 844 };

// Evaluated in the page (a string: this file is type-checked without the DOM's types).
async function overflow(page: Page) {
  return page.evaluate<{ scrollWidth: number; innerWidth: number }>(
    "({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })",
  );
}

async function screenshot(page: Page, name: string) {
  const path = join(tmpdir(), `edge-auth-${name}-390.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

describe("development pages on a 390 px screen", () => {
  let service: LocalService;
  let browser: Browser | undefined;
  let page: Page;
  // The longest address there is room for, so the mailbox has a long line that is not a link too.
  const email = `${"mailbox-".repeat(7)}${randomBytes(3).toString("hex")}@example.com`;

  before(async () => {
    service = await startLocalService(PORT);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    page = await browser.newPage({ viewport: PHONE });
    const registered = await postJson(service.base, "/v1/register", { email, password: "correct horse battery", name: "Bea" });
    assert.equal(registered.status, 202);
  });

  after(async () => {
    await browser?.close();
    await service?.stop();
  });

  it("the dev mailbox fits the screen: no horizontal scrolling, long links wrap", async () => {
    await page.goto(`${service.base}/dev/mailbox`);
    await page.locator("article", { hasText: email }).first().waitFor({ timeout: 10_000 });
    await screenshot(page, "dev-mailbox");
    const { scrollWidth, innerWidth } = await overflow(page);
    assert.equal(innerWidth, PHONE.width);
    assert.ok(scrollWidth <= innerWidth, `the page is ${scrollWidth} px wide on a ${innerWidth} px screen`);
    const link = page.locator("article", { hasText: email }).first().locator('a[href*="/confirm#token="]');
    const box = await link.boundingBox();
    assert.ok(box && box.x + box.width <= innerWidth, "the confirmation link runs off the screen");
  });

  it("a mail's HTML opens from the mailbox, as its recipient sees it", async () => {
    const article = page.locator("article", { hasText: email }).first();
    await article.locator("a", { hasText: "view HTML" }).click();
    await page.waitForURL(/\/dev\/mailbox\/[0-9a-f-]{36}\.html$/);
    assert.match(await page.title(), /^Confirm your email address for /);
    assert.ok(await page.locator('a[href*="/confirm#token="]').first().isVisible());
    await screenshot(page, "dev-mailbox-mail");
    const { scrollWidth, innerWidth } = await overflow(page);
    assert.ok(scrollWidth <= innerWidth, `the mail is ${scrollWidth} px wide on a ${innerWidth} px screen`);
  });

  it("the landing page fits the screen and leads to the mailbox", async () => {
    await page.goto(`${service.base}/`);
    await screenshot(page, "dev-landing");
    const { scrollWidth, innerWidth } = await overflow(page);
    assert.ok(scrollWidth <= innerWidth, `the page is ${scrollWidth} px wide on a ${innerWidth} px screen`);
    await page.locator("a", { hasText: "Dev mailbox" }).click();
    await page.waitForURL(/\/dev\/mailbox$/);
  });
});
