// Passkeys in a real browser (Debian's Chromium) against `npm start`, with a virtual authenticator
// from the DevTools protocol (WebAuthn.enable + WebAuthn.addVirtualAuthenticator, through
// playwright-core's CDP session): register a passkey from the development page /dev/passkeys, log
// out, sign in with the passkey alone, and log in with the password and the passkey as second
// factor. Run: npm run test:browser.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type CDPSession, type Page } from "playwright-core";
import { latestMailedLink, postJson, startLocalService, type LocalService } from "../../tools/local-service.ts";

const PORT = Number(process.env.BROWSER_PASSKEY_PORT ?? 8799);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const PASSWORD = "correct horse battery";
// WebAuthn needs a domain for the relying party (an IP address is refused), and browsers treat
// localhost as a secure context over plain http.
const ORIGIN = `http://localhost:${PORT}`;

/** Clicks a button of the page and waits for what the page says when the action is over. */
async function clickAndRead(page: Page, button: string) {
  await page.click(button);
  const status = page.locator('#status[data-state="done"]');
  await status.waitFor({ timeout: 15_000 });
  return { text: (await status.textContent()) ?? "", className: (await status.getAttribute("class")) ?? "" };
}

describe("passkeys in Chromium with a virtual authenticator", () => {
  let service: LocalService;
  let browser: Browser | undefined;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;
  const email = `passkey-${randomBytes(4).toString("hex")}@example.com`;

  before(async () => {
    service = await startLocalService(PORT, { env: { PUBLIC_URL: ORIGIN, WEBAUTHN_RP_ID: "localhost" } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    page = await browser.newPage();
    cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    ({ authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    }));
    // A confirmed account, through the API and the dev mailbox.
    assert.equal((await postJson(service.base, "/v1/register", { email, password: PASSWORD })).status, 202);
    const token = new URL(await latestMailedLink(service.base, email, "confirm")).hash.replace("#token=", "");
    assert.equal((await postJson(service.base, "/v1/confirm", { token, password: PASSWORD })).status, 200);
  });

  after(async () => {
    await browser?.close();
    await service?.stop();
  });

  it("logs in with the password on the page (no factor yet: amr pwd)", async () => {
    await page.goto(`${ORIGIN}/dev/passkeys`);
    await page.fill("#email", email);
    await page.fill("#password", PASSWORD);
    assert.deepEqual(await clickAndRead(page, "#login"), { text: `Signed in as ${email}.`, className: "ok" });
    assert.equal(await page.locator("#amr").textContent(), '["pwd"]');
  });

  it("registers a passkey: the authenticator holds one discoverable credential for localhost", async () => {
    assert.deepEqual(await clickAndRead(page, "#add-passkey"), { text: "Passkey added.", className: "ok" });
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0]!.rpId, "localhost");
    assert.equal(credentials[0]!.isResidentCredential, true);
  });

  it("logs out", async () => {
    assert.equal((await clickAndRead(page, "#logout")).text, "Signed out.");
  });

  it("signs in with the passkey alone (amr hwk)", async () => {
    await page.fill("#email", "");
    await page.fill("#password", "");
    assert.equal((await clickAndRead(page, "#passkey-login")).text, `Signed in as ${email}.`);
    assert.equal(await page.locator("#amr").textContent(), '["hwk"]');
    assert.equal((await clickAndRead(page, "#logout")).text, "Signed out.");
  });

  it("logs in with the password and the passkey as second factor (amr pwd + hwk)", async () => {
    await page.fill("#email", email);
    await page.fill("#password", PASSWORD);
    assert.equal((await clickAndRead(page, "#login")).text, `Signed in as ${email}.`);
    assert.equal(await page.locator("#amr").textContent(), '["pwd","hwk"]');
  });

  it("the password alone no longer opens a session", async () => {
    const login = await postJson(service.base, "/v1/login", { email, password: PASSWORD });
    assert.equal(login.status, 200);
    assert.equal(login.body.mfa_required, true);
    assert.equal(login.body.session, undefined);
  });
});
