// The browser SDK (client/) and the example SPA (client/example/) in Debian's Chromium against
// `npm start`: the example's whole flow through the dev mailbox, then several tabs of one session
// refreshing at the same moment, a tab opened later, logout in one tab, and a lost refresh answer.
// Refresh calls are counted on the wire: every request of every tab passes context.on("request").
// Run: npm run test:browser:sdk (CI installs Chromium).
import { randomBytes } from "node:crypto";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { latestMailedLink, postJson, startLocalService } from "../../tools/local-service.ts";

const PORT = Number(process.env.BROWSER_SDK_PORT ?? 8797);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ROUNDS = 20;
const PASSWORD = "correct horse battery";
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

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

// The example page puts its client on window.client (for the console); the checks read it there.
interface ExampleWindow {
  client: {
    session: { access_token: string; user: { email: string } | null } | null;
    refresh(): Promise<{ access_token: string } | null>;
    fetch(input: string): Promise<Response>;
  };
}

const accessToken = (page: Page) => page.evaluate(() => (globalThis as unknown as ExampleWindow).client.session?.access_token ?? null);

async function visible(page: Page, selector: string) {
  await page.locator(selector).waitFor({ state: "visible", timeout: 10_000 });
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

async function register(page: Page, name: string, email: string) {
  await page.fill("#register-name", name);
  await page.fill("#register-email", email);
  await page.fill("#register-password", PASSWORD);
  await page.click("#register button");
  await statusText(page, /check/i);
}

async function login(page: Page, email: string) {
  await page.fill("#login-email", email);
  await page.fill("#login-password", PASSWORD);
  await page.click("#login button");
  await visible(page, "#signed-in");
}

/** The JSON bodies of the API requests the browser sent, by path. */
function recordRequests(context: BrowserContext) {
  const sent: Array<{ path: string; body: Record<string, unknown> | null; authorization: string | undefined }> = [];
  context.on("request", (request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith("/v1/")) return;
    sent.push({ path: url.pathname, body: request.postDataJSON() as Record<string, unknown> | null, authorization: request.headers().authorization });
  });
  return {
    to: (path: string) => sent.filter((r) => r.path === path),
    count: (path: string) => sent.filter((r) => r.path === path).length,
  };
}

async function main() {
  const service = await startLocalService(PORT, {
    env: {
      // The mailed links lead to the example rather than to the hosted /confirm page.
      CONFIRM_URL: `http://127.0.0.1:${PORT}/example/confirm#token={token}`,
    },
  });
  const base = service.base;
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    // A client address of its own (wrangler dev passes CF-Connecting-IP through), so this run's POSTs
    // are not counted with those of other checks against the per-IP budget of 60 a minute.
    const context = await browser.newContext({ extraHTTPHeaders: { "cf-connecting-ip": `198.51.100.${Math.floor(Math.random() * 250) + 1}` } });
    const requests = recordRequests(context);
    const consoleErrors: string[] = [];
    const newTab = async (path = "/example") => {
      const page = await context.newPage();
      // Chromium also logs every 4xx answer and failed request as an error; those are expected here.
      page.on("console", (msg) => msg.type() === "error" && !msg.text().startsWith("Failed to load resource") && consoleErrors.push(msg.text()));
      page.on("pageerror", (err) => consoleErrors.push(err.message));
      await page.goto(base + path);
      return page;
    };
    const ana = `sdk-ana-${randomBytes(4).toString("hex")}@example.com`;
    const ben = `sdk-ben-${randomBytes(4).toString("hex")}@example.com`;

    // ---- the example's whole flow -------------------------------------------------------------
    const first = await newTab();
    await check("the example opens logged out, with its forms", async () => {
      await visible(first, "#signed-out");
      assert(await first.locator("#register").isVisible(), "no register form");
      assert((await accessToken(first)) === null, "a session without logging in");
    });

    let anaLink = "";
    await check("registering sends a PKCE challenge and mails a link to the example", async () => {
      await register(first, "Ana", ana);
      const body = requests.to("/v1/register").at(-1)?.body;
      assert(typeof body?.code_challenge === "string" && /^[A-Za-z0-9_-]{43}$/.test(body.code_challenge), `register body ${JSON.stringify(body)}`);
      anaLink = await latestMailedLink(base, ana, "confirm");
      assert(anaLink.startsWith(`${base}/example/confirm#token=`), `mailed link ${anaLink}`);
    });

    await check("the link opened in the registering tab confirms with the kept verifier, nothing typed", async () => {
      await open(first, anaLink);
      await visible(first, "#signed-in");
      const { className } = await statusText(first, /confirmed/i);
      assert(className === "ok", `status class ${className}`);
      const body = requests.to("/v1/confirm").at(-1)?.body ?? {};
      assert(typeof body.code_verifier === "string" && !("password" in body), `confirm body keys ${Object.keys(body)}`);
      assert(!first.url().includes("token="), `the token stayed in the address bar: ${first.url()}`);
      assert((await first.locator("#who").textContent()) === "Ana", "the greeting does not name Ana");
    });

    await check("the /v1/me page answers through client.fetch with the access token", async () => {
      await first.click("#call-me");
      await first.locator("#me").filter({ hasText: ana }).waitFor({ timeout: 10_000 });
      assert((await first.locator("#me").textContent())!.startsWith("200"), "not a 200");
      const sent = requests.to("/v1/me").at(-1);
      assert(sent?.authorization === `Bearer ${await accessToken(first)}`, "the request did not carry this tab's access token");
    });

    await check("logging out ends the session at the server", async () => {
      const token = await accessToken(first);
      await first.click("#logout");
      await visible(first, "#signed-out");
      const after = await postJson(base, "/v1/logout", {}, token!);
      assert(after.status === 401, `the old access token still logs out: ${after.status}`);
    });

    await check("a link opened in another tab (no verifier there) is pasted and confirmed with the password", async () => {
      await register(first, "Ben", ben);
      const link = await latestMailedLink(base, ben, "confirm");
      const other = await newTab();
      await visible(other, "#signed-out");
      await other.fill("#confirm-token", link);
      await other.click("#confirm button");
      await statusText(other, /password/i);
      assert(requests.to("/v1/confirm").at(-1)?.body?.code_verifier === undefined, "posted a verifier this tab does not have");
      await other.fill("#confirm-password", PASSWORD);
      await other.click("#confirm button");
      await visible(other, "#signed-in");
      assert(requests.to("/v1/confirm").at(-1)?.body?.password === PASSWORD, "did not confirm with the password");
      // One session for the app: the registering tab is logged in as Ben too.
      await visible(first, "#signed-in");
      await other.click("#logout");
      await visible(first, "#signed-out");
      await other.close();
    });

    await check("logging in with the password", async () => {
      await login(first, ana);
      await first.click("#call-me");
      await first.locator("#me").filter({ hasText: ana }).waitFor({ timeout: 10_000 });
    });

    // ---- one session, several tabs -------------------------------------------------------------
    const tabs = [first];
    await check("two tabs opened now take the session from the first, without a refresh call", async () => {
      const before = requests.count("/v1/token/refresh");
      tabs.push(await newTab(), await newTab());
      for (const tab of tabs) await visible(tab, "#signed-in");
      const tokens = await Promise.all(tabs.map(accessToken));
      assert(tokens[0] && tokens.every((t) => t === tokens[0]), "the tabs hold different access tokens");
      assert(requests.count("/v1/token/refresh") === before, "a refresh call was made");
    });

    await check(`three tabs refreshing at the same moment, ${ROUNDS} rounds: one refresh call a round, all tabs get the new tokens`, async () => {
      const problems: string[] = [];
      let previous = await accessToken(first);
      for (let round = 1; round <= ROUNDS; round++) {
        const before = requests.count("/v1/token/refresh");
        const at = Date.now() + 200;
        const answers = await Promise.all(
          tabs.map((tab) =>
            tab.evaluate(
              (at) =>
                new Promise<string | null>((resolve, reject) =>
                  setTimeout(
                    () => (globalThis as unknown as ExampleWindow).client.refresh().then((s) => resolve(s?.access_token ?? null), reject),
                    Math.max(0, at - Date.now()),
                  ),
                ),
              at,
            ),
          ),
        );
        const calls = requests.count("/v1/token/refresh") - before;
        const held = await Promise.all(tabs.map(accessToken));
        if (calls !== 1) problems.push(`round ${round}: ${calls} refresh calls`);
        if (!answers[0] || answers[0] === previous) problems.push(`round ${round}: no new access token`);
        if (![...answers, ...held].every((t) => t === answers[0])) problems.push(`round ${round}: the tabs disagree`);
        previous = answers[0] ?? previous;
      }
      assert(problems.length === 0, problems.join("; "));
    });

    await check("after the rounds the session is alive at the server, with no refresh token reused", async () => {
      const answer = await first.evaluate(async () => {
        const res = await (globalThis as unknown as ExampleWindow).client.fetch("/v1/me/events");
        return { status: res.status, body: (await res.json()) as { events?: Array<{ type: string }> } };
      });
      assert(answer.status === 200, `/v1/me/events answered ${answer.status}`);
      const types = answer.body.events!.map((e) => e.type);
      assert(!types.includes("refresh_reuse_detected"), `audit: ${types.join(", ")}`);
    });

    await check("a tab opened afterwards is logged in with the current tokens, without a refresh call", async () => {
      const before = requests.count("/v1/token/refresh");
      const late = await newTab();
      tabs.push(late);
      await visible(late, "#signed-in");
      assert((await accessToken(late)) === (await accessToken(first)), "the late tab's access token is not the current one");
      assert(requests.count("/v1/token/refresh") === before, "a refresh call was made");
      await late.click("#call-me");
      await late.locator("#me").filter({ hasText: ana }).waitFor({ timeout: 10_000 });
    });

    await check("logout in one tab logs out every tab, and the session is over at the server", async () => {
      const token = await accessToken(first);
      await tabs[1]!.click("#logout");
      for (const tab of tabs) await visible(tab, "#signed-out");
      const tokens = await Promise.all(tabs.map(accessToken));
      assert(tokens.every((t) => t === null), "a tab still holds an access token");
      const after = await postJson(base, "/v1/logout", {}, token!);
      assert(after.status === 401, `the session still logs out at the server: ${after.status}`);
    });

    // ---- a refresh whose answer is lost ----------------------------------------------------------
    // The request reaches the server (which rotates the token) and the answer is dropped on the way
    // back, as when the network fails at that moment. The server's grace answers the retry with the
    // same successor, so the session goes on.
    await check("a lost refresh answer is retried once with the same token and the session goes on in every tab", async () => {
      await login(first, ana);
      for (const tab of tabs) await visible(tab, "#signed-in");
      const statuses: number[] = [];
      await first.route("**/v1/token/refresh", async (route) => {
        if (statuses.length > 0) return route.continue();
        const answer = await route.fetch();
        statuses.push(answer.status());
        await route.abort("connectionreset");
      });
      context.on("response", (res) => {
        if (new URL(res.url()).pathname === "/v1/token/refresh") statuses.push(res.status());
      });
      const before = requests.to("/v1/token/refresh").length;
      const result = await first.evaluate(() => (globalThis as unknown as ExampleWindow).client.refresh());
      const sent = requests.to("/v1/token/refresh").slice(before);
      assert(sent.length === 2, `${sent.length} refresh requests`);
      assert(sent[0]!.body!.refresh_token === sent[1]!.body!.refresh_token, "the retry presented another token");
      assert(statuses[0] === 200 && statuses.at(-1) === 200, `answers ${statuses.join(", ")}: expected the lost 200, then 200 with the same successor`);
      assert(result !== null, "the client lost its session");
      for (const tab of tabs) await visible(tab, "#signed-in");
      await first.unroute("**/v1/token/refresh");
      // The successor the retry got is the live one: the next refresh rotates it normally.
      const next = await first.evaluate(() => (globalThis as unknown as ExampleWindow).client.refresh());
      assert(next !== null, "the session ended after the retried refresh");
    });

    // A closed tab reopened by the browser gets its sessionStorage back, refresh token included, even
    // after another tab has rotated that token. Presenting it would make the server end the session.
    const key = `edge-auth ${base}`;
    let saved: string | null = null;
    await check("a tab reloaded when it is the only one restores the session from its storage with one refresh call", async () => {
      for (const tab of tabs.splice(1)) await tab.close();
      // Still signed in after the retried refresh above; a fresh login otherwise.
      if (!(await first.locator("#signed-in").isVisible())) await login(first, ana);
      const closing = await newTab();
      await visible(closing, "#signed-in");
      saved = await closing.evaluate((key) => sessionStorage.getItem(key), key);
      await closing.close();
      const before = requests.count("/v1/token/refresh");
      await first.reload();
      await visible(first, "#signed-in");
      assert(requests.count("/v1/token/refresh") === before + 1, `${requests.count("/v1/token/refresh") - before} refresh calls`);
      assert((await first.locator("#who").textContent()) === "Ana", "the restored session does not name Ana");
    });

    await check("a tab restored with a refresh token that another tab has rotated since does not present it", async () => {
      assert(saved, "no saved storage from the check before");
      const spent = JSON.parse(saved).refresh_token as string;
      const current = await accessToken(first);
      await first.close();
      const before = requests.to("/v1/token/refresh").length;
      const restored = await context.newPage();
      await restored.addInitScript(([key, saved]) => sessionStorage.setItem(key!, saved!), [key, saved]);
      await restored.goto(`${base}/example`);
      await visible(restored, "#signed-out");
      const presented = requests.to("/v1/token/refresh").slice(before).filter((r) => r.body?.refresh_token === spent);
      assert(presented.length === 0, "the spent refresh token was presented");
      const events = await fetch(`${base}/v1/me/events`, { headers: { authorization: `Bearer ${current}` } });
      assert(events.status === 200, `the session ended at the server: /v1/me/events answered ${events.status}`);
      await restored.close();
    });

    await check("the pages ran under their CSP, with no script errors", async () => {
      assert(consoleErrors.length === 0, consoleErrors.join("; "));
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
