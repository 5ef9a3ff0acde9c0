import { beforeAll, describe, expect, it } from "vitest";
import { IP_BUDGET_PERIOD_SECONDS } from "../../../src/http/ip-budget.ts";
import { createTestService, type TestService } from "../../support/service.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { createConfirmedUser, errorCode, PASSWORD } from "../../support/flows.ts";

// The per-IP budget is the Workers Rate Limiting binding. Its windows follow the real clock, so the
// tests here run on the strict test bindings (5 POSTs a minute per client, 12 per IPv6 /48; see
// vitest.config.ts) and never wait for a window to pass.
let t: TestService;
beforeAll(async () => {
  t = await createTestService({ ipBudget: "strict" });
});

// Random addresses, so runs and files never share a bucket.
const octet = () => Math.floor(Math.random() * 250);
const freshIp = () => `198.51.${octet()}.${octet()}`;
const freshIpv6Site = () => `2001:db8:${((octet() << 8) | octet()).toString(16)}`;

function postFrom(ip: string, path: string, json: unknown, token?: string) {
  return t.request(path, { method: "POST", json, token, headers: { "cf-connecting-ip": ip } });
}

/**
 * POSTs from `ip` until the first 429 and returns how many were accepted. Should a minute boundary
 * pass meanwhile, the budget starts again; that run says so instead of failing.
 */
async function spendAll(ip: string, path = "/v1/confirm/resend") {
  const minute = () => Math.floor(Date.now() / 60_000);
  const started = minute();
  let accepted = 0;
  for (let i = 0; i < 40; i++) {
    const res = await postFrom(ip, path, { email: uniqueEmail("spend") });
    if (res.status === 429) return { accepted, refused: res, windowPassed: minute() !== started };
    accepted += 1;
  }
  throw new Error(`no 429 after 40 POSTs from ${ip}`);
}

describe("per-IP budget on POSTs under /v1 (Workers Rate Limiting binding)", () => {
  it("answers 429 rate_limited with Retry-After once a client's budget is spent, on every endpoint", async () => {
    const ip = freshIp();
    const { accepted, refused, windowPassed } = await spendAll(ip);
    if (!windowPassed) expect(accepted).toBe(5);
    expect(refused.headers.get("retry-after")).toBe(String(IP_BUDGET_PERIOD_SECONDS));
    expect(refused.headers.get("cache-control")).toBe("no-store");
    const body = (await refused.json()) as { error: { code: string; message: string; request_id: string } };
    expect(body.error).toEqual({ code: "rate_limited", message: expect.any(String), request_id: expect.any(String) });

    for (const [path, json] of [
      ["/v1/login", { email: uniqueEmail(), password: PASSWORD }],
      ["/v1/register", { email: uniqueEmail(), password: PASSWORD }],
      ["/v1/password/forgot", { email: uniqueEmail() }],
    ] as const) {
      const res = await postFrom(ip, path, json);
      expect(res.status, path).toBe(429);
      expect(await errorCode(res)).toBe("rate_limited");
    }
  });

  it("does not touch other clients", async () => {
    const ip = freshIp();
    await spendAll(ip);
    expect((await postFrom(freshIp(), "/v1/password/forgot", { email: uniqueEmail() })).status).toBe(202);
  });

  it("counts an IPv6 /64 as one client, and a /48 as one site", async () => {
    const site = freshIpv6Site();
    const { accepted, windowPassed } = await spendAll(`${site}:1::1`);
    if (!windowPassed) expect(accepted).toBe(5);
    // Another address in the same /64 is the same client.
    expect((await postFrom(`${site}:1:ffff:ffff:ffff:ffff`, "/v1/confirm/resend", { email: uniqueEmail() })).status).toBe(429);
    // Other /64s of the site have budgets of their own, until the site's is spent too.
    const statuses: number[] = [];
    for (let net = 2; net < 6; net++) {
      for (let i = 0; i < 3; i++) statuses.push((await postFrom(`${site}:${net}::${i + 1}`, "/v1/confirm/resend", { email: uniqueEmail() })).status);
    }
    expect(statuses.slice(0, 5).every((s) => s === 202)).toBe(true);
    expect(statuses).toContain(429);
  });

  it("refuses before the handler: a refused registration creates nothing, a refused confirm or refresh spends no token", async () => {
    const ip = freshIp();
    const email = uniqueEmail("refused");
    const { session } = await createConfirmedUser(t, "refresh-429");
    const pending = uniqueEmail("confirm-429");
    await t.post("/v1/register", { email: pending, password: PASSWORD });
    await t.settle();
    const token = tokenFrom((await mailsTo(pending))[0]);

    await spendAll(ip);
    expect((await postFrom(ip, "/v1/register", { email, password: PASSWORD })).status).toBe(429);
    expect((await postFrom(ip, "/v1/confirm", { token, password: PASSWORD })).status).toBe(429);
    expect((await postFrom(ip, "/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(429);
    await t.settle();
    expect(await mailsTo(email)).toHaveLength(0);
    // From another client the token and the refresh token still work: the refused requests took nothing.
    expect((await postFrom(freshIp(), "/v1/confirm", { token, password: PASSWORD })).status).toBe(200);
    expect((await postFrom(freshIp(), "/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(200);
  });

  it("counts malformed POSTs too: refusing them is cheap, but they are still traffic", async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 10 && statuses.at(-1) !== 429; i++) {
      const res = await t.request("/v1/login", { method: "POST", body: "{not json", headers: { "content-type": "application/json", "cf-connecting-ip": ip } });
      statuses.push(res.status);
    }
    expect(statuses).toContain(400);
    expect(statuses.at(-1)).toBe(429);
  });

  it("costs the database nothing: no write for an accepted POST, no round trip for a refused one", async () => {
    const s = await createTestService({ background: "manual", ipBudget: "strict" });
    const ip = freshIp();
    const forgot = () => s.request("/v1/password/forgot", { method: "POST", json: { email: uniqueEmail() }, headers: { "cf-connecting-ip": ip } });
    // Forgot for an unknown address writes its two mail-budget counters and nothing for the IP.
    const writesBefore = await s.dbWrites();
    expect((await forgot()).status).toBe(202);
    expect((await s.dbWrites()) - writesBefore).toBe(2);

    let refused: Response | undefined;
    for (let i = 0; i < 10 && refused?.status !== 429; i++) refused = await forgot();
    expect(refused!.status).toBe(429);
    const [trips, writes] = [await s.dbRoundTrips(), await s.dbWrites()];
    expect((await forgot()).status).toBe(429);
    expect([(await s.dbRoundTrips()) - trips, (await s.dbWrites()) - writes]).toEqual([0, 0]);
  });
});
