import { beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/config.ts";
import { createTestService, type TestService } from "../../support/service.ts";

// The pages behind the mailed links, as served (their behaviour in a browser is
// test/browser/hosted-pages.test.ts).

const PAGES = ["/confirm", "/reset", "/email/confirm", "/email/revert"];

let t: TestService;
beforeAll(async () => {
  t = await createTestService({ settings: { LOGIN_URL: "https://app.example.test/login" } });
});

describe.each(PAGES)("%s", (path) => {
  it("is HTML without a referrer, uncached, under a nonce CSP that admits nothing else", async () => {
    const res = await t.request(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("img-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const nonce = /script-src 'nonce-([A-Za-z0-9+/_=-]{16,})'/.exec(csp)![1];
    expect(/style-src 'nonce-([^']+)'/.exec(csp)![1]).toBe(nonce);
    const html = await res.text();
    // Exactly one script and one style, both carrying the nonce; nothing loaded from anywhere.
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(html).not.toMatch(/<(?:link|img|iframe)\b|\bsrc=|@import|url\(/);
  });

  it("reads the token from the fragment and posts nothing but from a submit", async () => {
    const html = await (await t.request(path)).text();
    expect(html).toContain("location.hash");
    expect(html).toContain('history.replaceState(null, "", location.pathname)');
    // Every post goes through onSubmit's handlers.
    const script = html.slice(html.indexOf("<script"));
    for (const call of script.matchAll(/await post\(/g)) expect(call.index).toBeGreaterThan(script.indexOf("onSubmit(form, handler)"));
  });

  it("names the app, links back to it, and supports dark mode", async () => {
    const html = await (await t.request(path)).text();
    expect(html).toContain('<p class="brand">Acme</p>');
    expect(html).toContain('href="https://app.example.test/login"');
    expect(html).toContain("prefers-color-scheme:dark");
    expect(html).toContain('name="viewport"');
  });
});

describe("settings", () => {
  it("/reset is headed Reset your password until a token says otherwise", async () => {
    const html = await (await t.request("/reset")).text();
    expect(html).toContain("<title>Reset your password · Acme</title>");
    expect(html).toMatch(/<section data-view="request" hidden=""><h1>Reset your password<\/h1>/);
    expect(html).toMatch(/show\(token \? "choose" : "request"\)/);
  });

  it("takes BRAND_COLOR for the buttons, with readable text on it", async () => {
    const dark = await createTestService({ settings: { BRAND_COLOR: "#4f46e5" } });
    expect(await (await dark.request("/confirm")).text()).toContain("--brand:#4f46e5;--on-brand:#ffffff");
    const light = await createTestService({ settings: { BRAND_COLOR: "#fde047" } });
    expect(await (await light.request("/confirm")).text()).toContain("--brand:#fde047;--on-brand:#18181b");
  });

  it("shows LOGO_URL, and admits images from its origin alone", async () => {
    const s = await createTestService({ settings: { LOGO_URL: "https://cdn.acme.test/brand/logo.svg" } });
    const res = await s.request("/email/revert");
    expect(res.headers.get("content-security-policy")).toContain("img-src https://cdn.acme.test");
    expect(await res.text()).toContain('<img src="https://cdn.acme.test/brand/logo.svg" alt="Acme"/>');
  });

  it.each([
    ["BRAND_COLOR", "red; background:url(//evil.test)"],
    ["BRAND_COLOR", "#12345"],
    ["LOGO_URL", "http://cdn.acme.test/logo.png"],
    ["LOGO_URL", "javascript:alert(1)"],
  ])("refuses %s=%j at start", (setting, value) => {
    expect(() => parseConfig({ ...t.settings, [setting]: value })).toThrow(setting);
  });
});
