import { beforeAll, describe, expect, it } from "vitest";
import { createTestService, TestClock, type TestService } from "../support/service.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../support/mail.ts";
import { createConfirmedUser, errorCode, PASSWORD } from "../support/flows.ts";

// 10 s into a minute: the per-IP window (60 s, aligned to the minute) ends in 50 s.
const clock = new TestClock(Date.UTC(2026, 10, 21, 12, 0, 10));
let t: TestService;
beforeAll(async () => {
  // The documented default budget: 60 POSTs per IP per minute.
  t = await createTestService({ clock, settings: { IP_RATE_LIMIT: "60", IP_RATE_WINDOW_SECONDS: "60" } });
});

let ipCounter = 0;
function freshIp() {
  ipCounter += 1;
  return `198.51.100.${ipCounter}`;
}

function postFrom(ip: string, path: string, json: unknown, token?: string) {
  return t.request(path, { method: "POST", json, token, headers: { "cf-connecting-ip": ip } });
}

// Cheap requests that reach the database: resend for addresses nobody has.
async function spend(ip: string, count: number) {
  for (let i = 0; i < count; i++) {
    const res = await postFrom(ip, "/v1/confirm/resend", { email: uniqueEmail("spend") });
    expect(res.status).toBe(202);
  }
}

function nextWindow() {
  clock.time = (Math.floor(clock.time / 60_000) + 1) * 60_000 + 10_000;
}

describe("per-IP budget on POSTs under /v1", () => {
  it("answers 429 rate_limited with Retry-After after 60 POSTs in a minute, on every endpoint", async () => {
    const ip = freshIp();
    await spend(ip, 60);
    const refused = await postFrom(ip, "/v1/confirm/resend", { email: uniqueEmail() });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("50");
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
    nextWindow();
  });

  it("does not touch other IPs, and serves the IP again in the next window", async () => {
    const ip = freshIp();
    await spend(ip, 60);
    expect((await postFrom(ip, "/v1/password/forgot", { email: uniqueEmail() })).status).toBe(429);
    expect((await postFrom(freshIp(), "/v1/password/forgot", { email: uniqueEmail() })).status).toBe(202);
    nextWindow();
    expect((await postFrom(ip, "/v1/password/forgot", { email: uniqueEmail() })).status).toBe(202);
  });

  it("counts an IPv6 /64 as one client", async () => {
    const prefix = `2001:db8:${++ipCounter}:1`;
    for (let i = 0; i < 60; i++) {
      expect((await postFrom(`${prefix}::${i.toString(16)}`, "/v1/confirm/resend", { email: uniqueEmail() })).status).toBe(202);
    }
    expect((await postFrom(`${prefix}:ffff:ffff:ffff:ffff`, "/v1/confirm/resend", { email: uniqueEmail() })).status).toBe(429);
    expect((await postFrom(`2001:db8:${ipCounter}:2::1`, "/v1/confirm/resend", { email: uniqueEmail() })).status).toBe(202);
    nextWindow();
  });

  it("creates nothing for a refused registration", async () => {
    const ip = freshIp();
    await spend(ip, 60);
    const email = uniqueEmail("refused");
    expect((await postFrom(ip, "/v1/register", { email, password: PASSWORD })).status).toBe(429);
    await t.settle();
    expect(await mailsTo(email)).toHaveLength(0);
    nextWindow();
    // Had the refused request created the account, this would be the "already registered" path.
    expect((await postFrom(ip, "/v1/register", { email, password: PASSWORD })).status).toBe(202);
    await t.settle();
    const mails = await mailsTo(email);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.body.text).toContain("/confirm#token=");
  });

  it("leaves a refresh token usable when its refresh was refused (nothing in the refused request took effect)", async () => {
    const { session } = await createConfirmedUser(t, "refresh-429");
    const ip = freshIp();
    await spend(ip, 60);
    const refused = await postFrom(ip, "/v1/token/refresh", { refresh_token: session.refresh_token });
    expect(refused.status).toBe(429);
    nextWindow();
    // Consumed by the refused request, this token would now count as reused and kill the session.
    const retried = await postFrom(ip, "/v1/token/refresh", { refresh_token: session.refresh_token });
    expect(retried.status).toBe(200);
  });

  it("leaves a confirmation link usable when its confirm was refused", async () => {
    const email = uniqueEmail("confirm-429");
    await t.post("/v1/register", { email, password: PASSWORD });
    await t.settle();
    const token = tokenFrom((await mailsTo(email))[0]);
    const ip = freshIp();
    await spend(ip, 60);
    expect((await postFrom(ip, "/v1/confirm", { token, password: PASSWORD })).status).toBe(429);
    nextWindow();
    expect((await postFrom(ip, "/v1/confirm", { token, password: PASSWORD })).status).toBe(200);
  });

  it("does not count requests refused before any database work", async () => {
    const ip = freshIp();
    for (let i = 0; i < 70; i++) {
      const res = await t.request("/v1/login", {
        method: "POST",
        body: "{not json",
        headers: { "content-type": "application/json", "cf-connecting-ip": ip },
      });
      expect(res.status).toBe(400);
    }
    expect((await postFrom(ip, "/v1/password/forgot", { email: uniqueEmail() })).status).toBe(202);
    nextWindow();
  });

  it("adds no round trip: an accepted request stays within two, a refused one costs one", async () => {
    const s = await createTestService({ clock, background: "manual", settings: { IP_RATE_LIMIT: "2" } });
    const trips = s.measureTrips;
    const email = uniqueEmail("trips");
    expect(await trips(() => s.post("/v1/register", { email, password: PASSWORD }))).toEqual({ status: 202, used: 2 });
    expect(await trips(() => s.post("/v1/login", { email, password: PASSWORD }))).toEqual({ status: 403, used: 2 });
    expect(await trips(() => s.post("/v1/password/forgot", { email }))).toEqual({ status: 429, used: 1 });
    nextWindow();
  });
});
