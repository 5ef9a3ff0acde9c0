import { afterEach, describe, expect, it } from "vitest";
import { MAIL_MIN_INTERVAL_MS } from "../../../src/limits/mail-budget.ts";
import { eq } from "drizzle-orm";
import { outbox } from "../../../src/db/schema.ts";
import { backoffMs, deliverDueMail } from "../../../src/mail/outbox.ts";
import { idempotencyCounts, mailsTo, setMailFailure, uniqueEmail } from "../../support/mail.ts";
import { onlyOutboxRow, outboxTo, providerDown } from "../../support/outbox.ts";
import { createTestService, TestClock, type TestServiceOptions } from "../../support/service.ts";

const PASSWORD = "correct horse battery";
const failing: string[] = [];

// The stand-in is shared with test files running in parallel: failures are scoped to addresses.
async function failFor(email: string, failure: Record<string, unknown>) {
  failing.push(email);
  await setMailFailure({ ...failure, to: email });
}

afterEach(async () => {
  for (const to of failing.splice(0)) await setMailFailure({ mode: "none", to });
});

async function serviceAt(options: TestServiceOptions = {}) {
  const clock = new TestClock();
  return { clock, t: await createTestService({ clock, ...options }) };
}

async function register(t: Awaited<ReturnType<typeof createTestService>>, email: string) {
  const res = await t.post("/v1/register", { email, password: PASSWORD, name: "Ana" });
  expect(res.status).toBe(202);
  await t.settle();
}

describe("mail while the provider is unavailable", () => {
  it("keeps every mail requested during an outage and delivers each exactly once after recovery", async () => {
    const provider = providerDown();
    const { clock, t } = await serviceAt({ deps: { mailer: provider.mailer } });
    const emails = [uniqueEmail("outage"), uniqueEmail("outage"), uniqueEmail("outage")];
    for (const email of emails) await register(t, email);

    for (const email of emails) {
      const row = await onlyOutboxRow(t, email);
      expect(row).toMatchObject({ status: "pending", attempts: 1, lastError: "resend network_error", claimedUntil: null });
      expect(row.payload).not.toBeNull();
      expect(row.nextAttemptAt).toBeGreaterThan(clock.now());
      expect(await mailsTo(email)).toHaveLength(0);
    }
    // Not due yet: the cron leaves the mails alone.
    expect(await deliverDueMail(t.deps)).toBe(0);

    clock.advance(2 * 60_000);
    expect(await deliverDueMail(t.deps)).toBe(3);
    expect(await deliverDueMail(t.deps)).toBe(0);
    for (const email of emails) expect(await onlyOutboxRow(t, email)).toMatchObject({ status: "pending", attempts: 2 });

    provider.recover();
    clock.advance(5 * 60_000);
    expect(await deliverDueMail(t.deps)).toBe(3);
    const counts = await idempotencyCounts();
    for (const email of emails) {
      const row = await onlyOutboxRow(t, email);
      expect(row).toMatchObject({ status: "sent", attempts: 3, lastError: null, claimedUntil: null });
      expect(row.providerId).toEqual(expect.any(String));
      // The token link is not kept once the provider has the mail.
      expect(row.payload).toBeNull();
      expect(await mailsTo(email)).toHaveLength(1);
      expect(counts[row.id]).toEqual({ deliveries: 1, requests: 1 });
    }
    clock.advance(3600_000);
    expect(await deliverDueMail(t.deps)).toBe(0);
  });

  describe.each([
    // No answer or a 5xx: the mail may have been accepted, so the cron repeats the call under the
    // row's key. A 429: it was refused for certain, so the mail joins a batch under a new key.
    { name: "a 500", failure: { mode: "status", status: 500 }, reason: "resend 500 internal_server_error", repeated: true },
    { name: "a 429 without retry-after", failure: { mode: "status", status: 429 }, reason: "resend 429 rate_limit_exceeded", repeated: false },
    { name: "a reset connection", failure: { mode: "reset" }, reason: "resend network_error", repeated: true },
  ])("after $name", ({ failure, reason, repeated }) => {
    it("retries after a jittered backoff and then delivers once", async () => {
      const { clock, t } = await serviceAt();
      const email = uniqueEmail("retry");
      await failFor(email, { ...failure, times: 1 });
      const queuedAt = clock.now();
      await register(t, email);

      const row = await onlyOutboxRow(t, email);
      expect(row).toMatchObject({ status: "pending", attempts: 1, lastError: reason });
      expect(row.nextAttemptAt).toBeGreaterThanOrEqual(queuedAt + 24_000);
      expect(row.nextAttemptAt).toBeLessThanOrEqual(queuedAt + 36_000);

      clock.advance(40_000);
      expect(await deliverDueMail(t.deps)).toBe(1);
      expect(await onlyOutboxRow(t, email)).toMatchObject({ status: "sent", attempts: 2, lastError: null });
      const mails = await mailsTo(email);
      expect(mails).toHaveLength(1);
      const key = mails[0]!.headers.idempotencyKey!;
      expect(key === row.id).toBe(repeated);
      if (!repeated) expect(key).toMatch(/^outbox-batch\//);
      expect((await idempotencyCounts())[key]?.deliveries).toBe(1);
    });
  });

  it("waits as long as a 429's retry-after asks", async () => {
    const { clock, t } = await serviceAt();
    const email = uniqueEmail("retry-after");
    await failFor(email, { mode: "status", status: 429, retryAfterSeconds: 120, times: 1 });
    const queuedAt = clock.now();
    await register(t, email);
    expect((await onlyOutboxRow(t, email)).nextAttemptAt).toBe(queuedAt + 120_000);

    clock.advance(60_000);
    expect(await deliverDueMail(t.deps)).toBe(0);
    clock.advance(60_000);
    expect(await deliverDueMail(t.deps)).toBe(1);
    expect(await mailsTo(email)).toHaveLength(1);
  });

  it("waits longer after each failure", async () => {
    const { clock, t } = await serviceAt();
    const email = uniqueEmail("backoff");
    await failFor(email, { mode: "status", status: 500 });
    await register(t, email);
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const row = await onlyOutboxRow(t, email);
      expect(row.attempts).toBe(attempt);
      waits.push(row.nextAttemptAt - clock.now());
      clock.time = row.nextAttemptAt;
      expect(await deliverDueMail(t.deps)).toBe(1);
    }
    // 30 s, 60 s, 120 s, 240 s, each within ±20 %.
    waits.forEach((wait, i) => {
      expect(wait).toBeGreaterThanOrEqual(0.8 * 30_000 * 2 ** i);
      expect(wait).toBeLessThanOrEqual(1.2 * 30_000 * 2 ** i);
    });
  });

  it("spreads retries with jitter and caps the wait at an hour", () => {
    expect(backoffMs(1, 0)).toBe(24_000);
    expect(backoffMs(1, 1)).toBe(36_000);
    expect(backoffMs(3, 0.5)).toBe(120_000);
    expect(backoffMs(20, 0.5)).toBe(3600_000);
    expect(new Set(Array.from({ length: 20 }, () => backoffMs(2))).size).toBeGreaterThan(1);
  });
});

describe("mail that cannot be delivered", () => {
  it("marks a mail refused for good (422) failed with the reason, drops its payload and never retries it", async () => {
    const { clock, t } = await serviceAt();
    const email = uniqueEmail("permanent");
    await failFor(email, { mode: "status", status: 422 });
    await register(t, email);

    expect(await onlyOutboxRow(t, email)).toMatchObject({
      status: "failed",
      attempts: 1,
      lastError: "resend 422 validation_error",
      payload: null,
    });
    clock.advance(24 * 3600_000);
    expect(await deliverDueMail(t.deps)).toBe(0);
    expect(await mailsTo(email)).toHaveLength(0);
  });

  describe.each([
    { name: "the confirmation link's expiry (1 h)", ttl: "3600", deadline: 3600_000 },
    { name: "24 hours when the link lives longer", ttl: String(48 * 3600), deadline: 24 * 3600_000 },
  ])("deadline: $name", ({ ttl, deadline }) => {
    it("gives up with 'deadline passed' and sends nothing after it", async () => {
      const { clock, t } = await serviceAt({ settings: { CONFIRM_TOKEN_TTL: ttl } });
      const email = uniqueEmail("deadline");
      await failFor(email, { mode: "status", status: 500 });
      const queuedAt = clock.now();
      await register(t, email);
      expect((await onlyOutboxRow(t, email)).deadlineAt).toBe(queuedAt + deadline);

      clock.time = queuedAt + deadline - 1000;
      // However long the backoff, the last retry is never scheduled after the deadline.
      await deliverDueMail(t.deps);
      expect((await onlyOutboxRow(t, email)).nextAttemptAt).toBeLessThanOrEqual(queuedAt + deadline);

      await setMailFailure({ mode: "none", to: email });
      clock.time = queuedAt + deadline;
      expect(await deliverDueMail(t.deps)).toBe(1);
      expect(await onlyOutboxRow(t, email)).toMatchObject({ status: "failed", lastError: "deadline passed", payload: null });
      expect(await mailsTo(email)).toHaveLength(0);
    });
  });

  // Someone who can write the database but does not hold the pepper must not be able to send a
  // waiting mail (a reset link) to another address.
  it("does not send a payload moved to another row, nor one whose row was readdressed", async () => {
    const provider = providerDown();
    const { clock, t } = await serviceAt({ deps: { mailer: provider.mailer } });
    const [victim, attacker, other] = [uniqueEmail("victim"), uniqueEmail("attacker"), uniqueEmail("other")];
    for (const email of [victim, attacker, other]) await register(t, email);
    const victimRow = await onlyOutboxRow(t, victim);
    const attackerRow = await onlyOutboxRow(t, attacker);
    const otherRow = await onlyOutboxRow(t, other);

    await t.deps.db.update(outbox).set({ payload: victimRow.payload }).where(eq(outbox.id, attackerRow.id));
    await t.deps.db.update(outbox).set({ toEmail: attacker }).where(eq(outbox.id, otherRow.id));
    provider.recover();
    clock.advance(5 * 60_000);
    await deliverDueMail(t.deps);

    for (const id of [attackerRow.id, otherRow.id]) {
      const [row] = await t.deps.db.select().from(outbox).where(eq(outbox.id, id));
      expect(row).toMatchObject({ status: "failed", lastError: "payload unreadable", payload: null });
    }
    expect(await mailsTo(attacker)).toHaveLength(0);
    expect(await mailsTo(victim)).toHaveLength(1);
  });

  it("lists each outbox row of an address in the order written", async () => {
    const { clock, t } = await serviceAt();
    const email = uniqueEmail("order");
    await register(t, email);
    clock.advance(MAIL_MIN_INTERVAL_MS);
    await t.post("/v1/confirm/resend", { email });
    await t.settle();
    expect((await outboxTo(t, email)).map((row) => row.status)).toEqual(["sent", "sent"]);
  });
});
