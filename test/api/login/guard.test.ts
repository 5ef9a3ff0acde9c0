import { beforeAll, describe, expect, it, vi } from "vitest";
import { and, asc, eq, sql } from "drizzle-orm";
import { auditEvents } from "../../../src/db/schema.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { MAIL_MIN_INTERVAL_MS } from "../../../src/limits/mail-budget.ts";
import { mailsTo, tokenFrom, uniqueEmail, type ReceivedMail } from "../../support/mail.ts";
import { comparableBody, createConfirmedUser, errorCode, PASSWORD } from "../../support/flows.ts";

const WRONG = "not the password at all";
const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  // Default lock-out settings: 5 failures, then 30 s doubling up to 15 min.
  t = await createTestService({ clock });
});

const attempt = (email: string, password: string) => t.post("/v1/login", { email, password });
// The lock-out schedule of the settings under test (defaults: 5 failures, 30 s doubling to 15 min).
const lock = () => ({
  threshold: t.deps.config.loginLockoutThreshold,
  baseMs: t.deps.config.loginLockoutBaseSeconds * 1000,
  maxMs: t.deps.config.loginLockoutMaxSeconds * 1000,
});

async function fail(email: string, times: number) {
  const statuses: number[] = [];
  for (let i = 0; i < times; i++) statuses.push((await attempt(email, WRONG)).status);
  return statuses;
}

describe("login lock-out per account", () => {
  it("after 10 wrong passwords answers 429 with Retry-After, even to the right password, until the window passes", async () => {
    const { email } = await createConfirmedUser(t, "locked");
    const { threshold, baseMs } = lock();
    expect(await fail(email, 10)).toEqual([...Array(threshold).fill(401), ...Array(10 - threshold).fill(429)]);

    const right = await attempt(email, PASSWORD);
    expect(right.status).toBe(429);
    expect(right.headers.get("retry-after")).toBe(String(baseMs / 1000));
    expect(await errorCode(right)).toBe("rate_limited");

    clock.advance(baseMs - 1_000);
    const almost = await attempt(email, PASSWORD);
    expect(almost.status).toBe(429);
    expect(almost.headers.get("retry-after")).toBe("1");

    clock.advance(1_000);
    expect((await attempt(email, PASSWORD)).status).toBe(200);
  });

  it("leaves other accounts alone", async () => {
    const victim = await createConfirmedUser(t, "victim");
    const bystander = await createConfirmedUser(t, "bystander");
    await fail(victim.email, 6);
    expect((await attempt(victim.email, PASSWORD)).status).toBe(429);
    expect((await attempt(bystander.email, PASSWORD)).status).toBe(200);
    clock.advance(lock().baseMs);
  });

  it("grows the window with each further failure (30 s, 1, 2, 4, 8 min) and caps it at 15 min", async () => {
    const { email } = await createConfirmedUser(t, "growing");
    expect(await fail(email, 5)).toEqual([401, 401, 401, 401, 401]);
    const windows: number[] = [];
    for (let i = 0; i < 8; i++) {
      const locked = await attempt(email, PASSWORD);
      expect(locked.status).toBe(429);
      const seconds = Number(locked.headers.get("retry-after"));
      windows.push(seconds);
      clock.advance(seconds * 1000);
      expect((await attempt(email, WRONG)).status).toBe(401);
    }
    const { baseMs, maxMs } = lock();
    expect(windows).toEqual(windows.map((_, i) => Math.min(baseMs * 2 ** i, maxMs) / 1000));
    expect(windows.at(-1)).toBe(maxMs / 1000);
    // Never permanent: once the longest window has passed the owner gets in.
    clock.advance(lock().maxMs);
    expect((await attempt(email, PASSWORD)).status).toBe(200);
  });

  it("starts counting again after a successful login", async () => {
    const { email } = await createConfirmedUser(t, "reset-count");
    expect(await fail(email, 4)).toEqual([401, 401, 401, 401]);
    expect((await attempt(email, PASSWORD)).status).toBe(200);
    expect(await fail(email, 4)).toEqual([401, 401, 401, 401]);
    expect((await attempt(email, PASSWORD)).status).toBe(200);
  });

  it("locks an unknown address exactly like a known one, so the 429 reveals no account", async () => {
    const known = (await createConfirmedUser(t, "known")).email;
    const unknown = uniqueEmail("nobody");
    const answers = async (email: string) => {
      const out: unknown[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await attempt(email, WRONG);
        out.push([res.status, res.headers.get("retry-after"), await comparableBody(res)]);
      }
      return out;
    };
    const knownAnswers = await answers(known);
    expect(await answers(unknown)).toEqual(knownAnswers);
    expect(knownAnswers.map((a) => (a as unknown[])[0])).toEqual([401, 401, 401, 401, 401, 429, 429]);
    clock.advance(lock().baseMs);
  });

  it("lets no more than 5 of 20 parallel guesses through", async () => {
    const { email } = await createConfirmedUser(t, "parallel");
    const statuses = await Promise.all(Array.from({ length: 20 }, () => attempt(email, WRONG).then((r) => r.status)));
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    clock.advance(lock().baseMs);
  });

  it("does not count the right password of a pending registration as a failure", async () => {
    const email = uniqueEmail("unconfirmed");
    await t.post("/v1/register", { email, password: PASSWORD });
    for (let i = 0; i < 7; i++) expect((await attempt(email, PASSWORD)).status).toBe(403);
  });

  it("checks no password while locked, and answers from one round trip", async () => {
    const s = await createTestService({ clock, background: "manual" });
    const { email } = await createConfirmedUser(s, "cheap");
    for (let i = 0; i < 5; i++) await s.post("/v1/login", { email, password: WRONG });
    const verify = vi.spyOn(s.deps.passwords, "verify");
    const burn = vi.spyOn(s.deps.passwords, "burn");
    const before = await s.dbRoundTrips();
    expect((await s.post("/v1/login", { email, password: PASSWORD })).status).toBe(429);
    expect((await s.dbRoundTrips()) - before).toBe(1);
    expect(verify).not.toHaveBeenCalled();
    expect(burn).not.toHaveBeenCalled();
    clock.advance(lock().baseMs);
  });

  it("records the lock-out in the account's audit trail", async () => {
    const { email, userId } = await createConfirmedUser(t, "audited");
    await fail(email, 6);
    const rows = await t.deps.db
      .select({ type: auditEvents.type })
      .from(auditEvents)
      .where(and(eq(auditEvents.userId, userId)))
      .orderBy(asc(auditEvents.createdAt), asc(sql`rowid`));
    expect(rows.map((r) => r.type).filter((type) => type !== "registered" && type !== "email_confirmed")).toEqual([
      "login_failed",
      "login_failed",
      "login_failed",
      "login_failed",
      "login_failed",
      "rate_limited",
    ]);
    clock.advance(lock().baseMs);
  });
});

describe("targeted lock-out: an attacker cannot keep the owner out", () => {
  let n = 0;
  // Distinct clients, IPv4 and IPv6 (each IPv6 /64 is one client).
  const client = () => (++n % 2 === 0 ? `198.51.100.${n % 250}` : `2001:db8:${(n).toString(16)}::1`);
  const loginFrom = (ip: string, body: Record<string, unknown>) =>
    t.request("/v1/login", { method: "POST", json: body, headers: { "cf-connecting-ip": ip } });
  const isUnlock = (m: ReceivedMail) => /\b[0-9]{6}\b/.test(m.body.text ?? "") && /unlock/i.test(m.body.subject);
  const codeFrom = (m: ReceivedMail | undefined) => /\n([0-9]{6})\n/.exec(m?.body.text ?? "")![1]!;

  it("locks the guessing client (429 with Retry-After, even for the right password) while the owner logs in from another", async () => {
    const { email } = await createConfirmedUser(t, "targeted");
    const attacker = client();
    for (let i = 0; i < 10; i++) await loginFrom(attacker, { email, password: WRONG });
    const refused = await loginFrom(attacker, { email, password: PASSWORD });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/for this account from your network/);
    expect((await loginFrom(client(), { email, password: PASSWORD })).status).toBe(200);
  });

  it("lets the owner in from a fresh client after 30 wrong passwords spread over 30 clients", async () => {
    const { email } = await createConfirmedUser(t, "spread");
    for (let i = 0; i < 30; i++) expect((await loginFrom(client(), { email, password: WRONG })).status).toBe(401);
    expect((await loginFrom(client(), { email, password: PASSWORD })).status).toBe(200);
  });

  it(`past LOGIN_FAILURES_PER_DAY spread failures asks the right password for a mailed unlock code, which lets the owner in`, async () => {
    const { email } = await createConfirmedUser(t, "unlock");
    const perDay = t.deps.config.loginFailuresPerDay;
    for (let i = 0; i < perDay + 10; i++) await loginFrom(client(), { email, password: WRONG });
    // A wrong password still answers as always: the daily state is told only to the password's holder.
    expect((await loginFrom(client(), { email, password: WRONG })).status).toBe(401);

    const owner = client();
    const required = await loginFrom(owner, { email, password: PASSWORD });
    expect(required.status).toBe(403);
    expect(await errorCode(required)).toBe("unlock_required");
    await t.settle();
    const mails = (await mailsTo(email)).filter(isUnlock);
    expect(mails).toHaveLength(1);
    const code = codeFrom(mails[0]);

    const wrongCode = code === "000000" ? "000001" : "000000";
    expect(await errorCode(await loginFrom(owner, { email, password: PASSWORD, unlock_code: wrongCode }))).toBe("unlock_required");
    expect((await loginFrom(owner, { email, password: PASSWORD, unlock_code: code })).status).toBe(200);
    // Both tiers are cleared: the right password alone works again, from anywhere, and the code is spent.
    expect((await loginFrom(client(), { email, password: PASSWORD })).status).toBe(200);
    await t.settle();
    expect((await mailsTo(email)).filter(isUnlock)).toHaveLength(1);
  });

  it("spends an unlock code after 5 wrong tries", async () => {
    const { email } = await createConfirmedUser(t, "unlock-guess");
    for (let i = 0; i < t.deps.config.loginFailuresPerDay; i++) await loginFrom(client(), { email, password: WRONG });
    const owner = client();
    await loginFrom(owner, { email, password: PASSWORD });
    await t.settle();
    const code = codeFrom((await mailsTo(email)).filter(isUnlock)[0]);
    const wrong = code === "000000" ? "000001" : "000000";
    for (let i = 0; i < 5; i++) expect(await errorCode(await loginFrom(owner, { email, password: PASSWORD, unlock_code: wrong }))).toBe("unlock_required");
    // Wrong codes are failed attempts too: that client is now locked; from another the code is spent.
    expect((await loginFrom(owner, { email, password: PASSWORD, unlock_code: code })).status).toBe(429);
    expect(await errorCode(await loginFrom(client(), { email, password: PASSWORD, unlock_code: code }))).toBe("unlock_required");
  });

  it("clears both tiers when the owner completes a password reset", async () => {
    const { email } = await createConfirmedUser(t, "reset-clears");
    const attacker = client();
    for (let i = 0; i < t.deps.config.loginFailuresPerDay; i++) await loginFrom(i < 6 ? attacker : client(), { email, password: WRONG });
    clock.advance(MAIL_MIN_INTERVAL_MS);
    await t.post("/v1/password/forgot", { email });
    await t.settle();
    const token = tokenFrom((await mailsTo(email)).filter((m) => m.body.text?.includes("/reset#token=")).at(-1));
    expect((await t.post("/v1/password/reset", { token, password: "a brand new password" })).status).toBe(200);
    expect((await loginFrom(attacker, { email, password: "a brand new password" })).status).toBe(200);
  });
});
