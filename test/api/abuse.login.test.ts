import { beforeAll, describe, expect, it, vi } from "vitest";
import { and, asc, eq, sql } from "drizzle-orm";
import { auditEvents } from "../../src/db/schema.ts";
import { createTestService, TestClock, type TestService } from "../support/service.ts";
import { uniqueEmail } from "../support/mail.ts";
import { comparableBody, createConfirmedUser, errorCode, PASSWORD } from "../support/flows.ts";

const WRONG = "not the password at all";
const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  // Default lock-out settings: 5 failures, then 30 s doubling up to 15 min.
  t = await createTestService({ clock });
});

const attempt = (email: string, password: string) => t.post("/v1/login", { email, password });

async function fail(email: string, times: number) {
  const statuses: number[] = [];
  for (let i = 0; i < times; i++) statuses.push((await attempt(email, WRONG)).status);
  return statuses;
}

describe("login lock-out per account", () => {
  it("after 10 wrong passwords answers 429 with Retry-After, even to the right password, until the window passes", async () => {
    const { email } = await createConfirmedUser(t, "locked");
    expect(await fail(email, 10)).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);

    const right = await attempt(email, PASSWORD);
    expect(right.status).toBe(429);
    expect(right.headers.get("retry-after")).toBe("30");
    expect(await errorCode(right)).toBe("rate_limited");

    clock.advance(29_000);
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
    clock.advance(30_000);
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
    expect(windows).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
    // Never permanent: once the longest window has passed the owner gets in.
    clock.advance(900_000);
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
    clock.advance(30_000);
  });

  it("lets no more than 5 of 20 parallel guesses through", async () => {
    const { email } = await createConfirmedUser(t, "parallel");
    const statuses = await Promise.all(Array.from({ length: 20 }, () => attempt(email, WRONG).then((r) => r.status)));
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    clock.advance(30_000);
  });

  it("does not count the right password on an unconfirmed account as a failure", async () => {
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
    clock.advance(30_000);
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
    clock.advance(30_000);
  });
});
