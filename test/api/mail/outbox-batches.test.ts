import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { outbox } from "../../../src/db/schema.ts";
import { CronBudget } from "../../../src/lib/cron-budget.ts";
import { DELIVERY_LEASE_MS, deliverDueMail, MAIL_BATCH, queueMail } from "../../../src/mail/outbox.ts";
import type { Mailer } from "../../../src/mail/types.ts";
import { idempotencyCounts, mailsTo, uniqueEmail } from "../../support/mail.ts";
import { standInMailer } from "../../support/outbox.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";

// A backlog as a burst of sign-ups leaves it when Resend answers 429 (its default limit is 2
// requests a second): refused for certain, so free to go in any batch.
async function backlog(t: TestService, count: number, label: string) {
  const now = t.deps.clock.now();
  const rows = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const { row } = await queueMail(
        t.deps,
        { userId: null, to: uniqueEmail(`${label}-${i}`), template: "unlock-code", locale: "en", data: { appName: "Acme", name: null, code: "123456", expiresInSeconds: 600, resetUrl: "https://auth.example.test/forgot" } },
        now,
      );
      return { ...row, status: "pending" as const, claimedUntil: null, sendKey: null, lastError: "resend 429 rate_limit_exceeded" };
    }),
  );
  for (let i = 0; i < rows.length; i += 50) await t.deps.db.insert(outbox).values(rows.slice(i, i + 50));
  return rows;
}

function countingMailer(inner: Mailer) {
  const calls = { single: 0, batch: [] as number[] };
  const mailer: Mailer = {
    kind: "resend",
    send: (mail) => {
      calls.single++;
      return inner.send(mail);
    },
    sendBatch: (mails, key) => {
      calls.batch.push(mails.length);
      return inner.sendBatch(mails, key);
    },
  };
  return { mailer, calls };
}

describe("the cron drains a backlog in batches", () => {
  it("sends 250 waiting mails in three calls of at most 100, each mail once", async () => {
    const { mailer, calls } = countingMailer(standInMailer());
    const t = await createTestService({ clock: new TestClock(), deps: { mailer } });
    const rows = await backlog(t, 250, "drain");

    expect(await deliverDueMail(t.deps)).toBe(250);
    expect(calls).toEqual({ single: 0, batch: [MAIL_BATCH, MAIL_BATCH, 50] });
    const sent = await t.deps.db.select().from(outbox).where(inArray(outbox.id, rows.map((r) => r.id)));
    expect(sent.every((r) => r.status === "sent" && r.sendKey === null && r.providerId !== null && r.payload === null)).toBe(true);
    for (const row of rows.slice(0, 5)) expect(await mailsTo(row.toEmail)).toHaveLength(1);
  });

  it("stops when its share of the run's subrequests is spent, and the next run goes on", async () => {
    const { mailer, calls } = countingMailer(standInMailer());
    const t = await createTestService({ clock: new TestClock(), deps: { mailer } });
    await backlog(t, 150, "budget");

    // A step reserves 13 subrequests (the claim, up to 11 calls, the outcomes) and gives back what
    // it did not use: this one used 3, so 12 of 15 are left, not enough for another step.
    expect(await deliverDueMail(t.deps, new CronBudget(15, Date.now() + 60_000))).toBe(100);
    expect(await deliverDueMail(t.deps, new CronBudget(15, Date.now() + 60_000))).toBe(50);
    expect(calls.batch).toEqual([100, 50]);
  });

  it("repeats a batch whose answer was lost under its key, so no mail is delivered twice", async () => {
    const real = standInMailer();
    let lose = true;
    const keys: string[] = [];
    const mailer: Mailer = {
      kind: "resend",
      send: (mail) => real.send(mail),
      // Resend accepts the batch, but the answer never arrives.
      async sendBatch(mails, key) {
        keys.push(key);
        const results = await real.sendBatch(mails, key);
        if (!lose) return results;
        lose = false;
        return mails.map(() => ({ ok: false, retryable: true, maybeDelivered: true, reason: "resend network_error" }));
      },
    };
    const clock = new TestClock();
    const t = await createTestService({ clock, deps: { mailer } });
    const rows = await backlog(t, 3, "lost-batch");

    expect(await deliverDueMail(t.deps)).toBe(3);
    const waiting = await t.deps.db.select().from(outbox).where(inArray(outbox.id, rows.map((r) => r.id)));
    expect(new Set(waiting.map((r) => `${r.status} ${r.sendKey}`))).toEqual(new Set([`pending ${keys[0]}`]));

    clock.advance(3600_000);
    expect(await deliverDueMail(t.deps)).toBe(3);
    expect(keys).toEqual([keys[0], keys[0]]);
    expect((await idempotencyCounts())[keys[0]!]).toEqual({ deliveries: 1, requests: 2 });
    for (const row of rows) expect(await mailsTo(row.toEmail)).toHaveLength(1);
    const done = await t.deps.db.select().from(outbox).where(inArray(outbox.id, rows.map((r) => r.id)));
    expect(done.every((r) => r.status === "sent" && r.sendKey === null)).toBe(true);
  });

  it("repeats the call of a batch whose sender died mid-call under the key it claimed with", async () => {
    const hung: Mailer = { kind: "resend", send: () => new Promise(() => {}), sendBatch: () => new Promise(() => {}) };
    const clock = new TestClock();
    const dying = await createTestService({ clock, deps: { mailer: hung } });
    const rows = await backlog(dying, 2, "died");
    void deliverDueMail(dying.deps); // claims, then hangs in the call forever
    await expect.poll(async () => (await dying.deps.db.select().from(outbox).where(eq(outbox.id, rows[0]!.id)))[0]?.status).toBe("sending");
    const claimed = await dying.deps.db.select().from(outbox).where(inArray(outbox.id, rows.map((r) => r.id)));
    const key = claimed[0]!.sendKey!;
    expect(key).toMatch(/^outbox-batch\//);
    expect(claimed[1]!.sendKey).toBe(key);

    clock.advance(DELIVERY_LEASE_MS);
    const { mailer, calls } = countingMailer(standInMailer());
    const t = await createTestService({ clock, deps: { mailer }, settings: { DB_URL: dying.settings.DB_URL! } });
    expect(await deliverDueMail(t.deps)).toBe(2);
    expect(calls.batch).toEqual([2]);
    for (const row of rows) expect((await mailsTo(row.toEmail))[0]?.headers.idempotencyKey).toBe(key);
  });
});
