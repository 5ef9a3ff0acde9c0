import { beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../../../src/db/schema.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { createConfirmedUser, PASSWORD, type SessionBody } from "../../support/flows.ts";

interface EventJson {
  type: string;
  time: string;
  ip: string | null;
  user_agent: string | null;
}

const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  t = await createTestService({ clock });
});

const IP = "198.51.100.77";
const UA = "AuditTest/1.0 (walks every flow)";

function call(path: string, json?: unknown, token?: string) {
  return t.request(path, {
    method: json === undefined ? "GET" : "POST",
    json,
    token,
    headers: { "cf-connecting-ip": IP, "user-agent": UA },
  });
}

async function sessionOf(res: Response): Promise<SessionBody> {
  expect(res.status).toBe(200);
  return ((await res.json()) as { session: SessionBody }).session;
}

async function eventsOf(token: string): Promise<EventJson[]> {
  const res = await t.request("/v1/me/events", { token });
  expect(res.status).toBe(200);
  return ((await res.json()) as { events: EventJson[] }).events;
}

describe("audit trail", () => {
  it("shows every security event of a user who went through every flow, newest first, with time, IP and user agent", async () => {
    const email = uniqueEmail("audited");
    const times: Record<string, string> = {};
    const step = async <T>(name: string, run: () => Promise<T>) => {
      clock.advance(1000);
      times[name] = new Date(clock.now()).toISOString();
      return run();
    };

    await step("register", async () => expect((await call("/v1/register", { email, password: PASSWORD })).status).toBe(202));
    await t.settle();
    await step("confirm", async () => sessionOf(await call("/v1/confirm", { token: tokenFrom((await mailsTo(email))[0]), password: PASSWORD })));
    await step("wrong", async () => expect((await call("/v1/login", { email, password: "not the password" })).status).toBe(401));
    const first = await step("login", async () => sessionOf(await call("/v1/login", { email, password: PASSWORD })));
    const rotated = await step("refresh", async () => sessionOf(await call("/v1/token/refresh", { refresh_token: first.refresh_token })));
    // The successor is used, so the first token coming back is a stolen copy, not a retry.
    await call("/v1/token/refresh", { refresh_token: rotated.refresh_token });
    await step("reuse", async () => expect((await call("/v1/token/refresh", { refresh_token: first.refresh_token })).status).toBe(401));
    await step("forgot", async () => expect((await call("/v1/password/forgot", { email })).status).toBe(202));
    await t.settle();
    const resetLink = (await mailsTo(email)).filter((m) => m.body.text?.includes("/reset#token=")).at(-1);
    await step("reset", async () => expect((await call("/v1/password/reset", { token: tokenFrom(resetLink), password: "a brand new passphrase" })).status).toBe(200));
    const second = await step("login2", async () => sessionOf(await call("/v1/login", { email, password: "a brand new passphrase" })));
    const third = await step("change", async () =>
      sessionOf(await call("/v1/password/change", { current_password: "a brand new passphrase", new_password: "the third passphrase" }, second.access_token)),
    );
    await step("logout", async () => expect((await call("/v1/logout", {}, third.access_token)).status).toBe(204));
    await step("lockout", async () => {
      for (let i = 0; i < 5; i++) await call("/v1/login", { email, password: "not the password" });
    });
    clock.advance(30_000);
    const last = await step("login3", async () => sessionOf(await call("/v1/login", { email, password: "the third passphrase" })));

    const events = await eventsOf(last.access_token);
    expect(events.map((e) => [e.type, e.time])).toEqual([
      ["login_succeeded", times.login3],
      ["rate_limited", times.lockout],
      ...Array(5).fill(["login_failed", times.lockout]),
      ["logged_out", times.logout],
      ["password_changed", times.change],
      ["login_succeeded", times.login2],
      ["reset_completed", times.reset],
      ["reset_requested", times.forgot],
      ["refresh_reuse_detected", times.reuse],
      ["login_succeeded", times.login],
      ["login_failed", times.wrong],
      ["email_confirmed", times.confirm],
      ["registered", times.register],
    ]);
    for (const event of events) expect(event).toMatchObject({ ip: IP, user_agent: UA });
  });

  it("lists only the caller's own events", async () => {
    const mine = await createConfirmedUser(t, "mine");
    const other = await createConfirmedUser(t, "other");
    await t.post("/v1/login", { email: other.email, password: "wrong for the other" });
    const events = await eventsOf(mine.session.access_token);
    expect(events.map((e) => e.type)).toEqual(["email_confirmed", "registered"]);
  });

  it("returns the 50 newest events from one read", async () => {
    const s = await createTestService({ clock, background: "manual" });
    const { userId, session } = await createConfirmedUser(s, "busy");
    const base = clock.now();
    await s.deps.db.insert(auditEvents).values(
      Array.from({ length: 60 }, (_, i) => ({
        id: crypto.randomUUID(),
        userId,
        type: "login_succeeded",
        ip: `192.0.2.${i}`,
        userAgent: null,
        createdAt: base + 1000 * (i + 1),
      })),
    );
    const before = await s.dbRoundTrips();
    const res = await s.request("/v1/me/events", { token: session.access_token });
    expect((await s.dbRoundTrips()) - before).toBe(1);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { events } = (await res.json()) as { events: EventJson[] };
    expect(events).toHaveLength(50);
    expect(events[0]).toEqual({ type: "login_succeeded", time: new Date(base + 60_000).toISOString(), ip: "192.0.2.59", user_agent: null });
    expect(events[49]!.ip).toBe("192.0.2.10");
  });

  it("needs a valid access token", async () => {
    for (const token of [undefined, "not-a-jwt"]) {
      const res = await t.request("/v1/me/events", { token });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
  });
});
