import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../../../src/index.ts";
import { DELIVERY_LEASE_MS, deliverDueMail } from "../../../src/mail/outbox.ts";
import type { Mailer } from "../../../src/mail/types.ts";
import { idempotencyCounts, mailsTo, setMailFailure, uniqueEmail } from "../../support/mail.ts";
import { onlyOutboxRow, standInMailer } from "../../support/outbox.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";

const PASSWORD = "correct horse battery";
const failing: string[] = [];

async function failOnceFor(email: string) {
  failing.push(email);
  await setMailFailure({ mode: "status", status: 500, times: 1, to: email });
}

afterEach(async () => {
  for (const to of failing.splice(0)) await setMailFailure({ mode: "none", to });
});

async function register(t: TestService, email: string) {
  const res = await t.post("/v1/register", { email, password: PASSWORD });
  expect(res.status).toBe(202);
}

describe("one sender per mail", () => {
  it("sends each due mail once when two cron runs overlap", async () => {
    const clock = new TestClock();
    const t = await createTestService({ clock });
    const emails = Array.from({ length: 6 }, () => uniqueEmail("overlap"));
    for (const email of emails) {
      await failOnceFor(email);
      await register(t, email);
    }
    await t.settle();
    clock.advance(5 * 60_000);

    const claimed = await Promise.all([deliverDueMail(t.deps), deliverDueMail(t.deps), deliverDueMail(t.deps)]);
    expect(claimed.reduce((a, b) => a + b, 0)).toBe(6);
    const counts = await idempotencyCounts();
    for (const email of emails) {
      const row = await onlyOutboxRow(t, email);
      expect(row).toMatchObject({ status: "sent", attempts: 2 });
      // One request per mail reached the provider: the claim, not the idempotency key, kept it single.
      expect(counts[row.id]).toEqual({ deliveries: 1, requests: 1 });
    }
  });

  it("leaves a mail alone while the request that wrote it is still sending it", async () => {
    const clock = new TestClock();
    const t = await createTestService({ clock, background: "manual" });
    const email = uniqueEmail("in-flight");
    await register(t, email);

    clock.advance(DELIVERY_LEASE_MS - 1000);
    expect(await deliverDueMail(t.deps)).toBe(0);
    await t.runDeferred();
    const row = await onlyOutboxRow(t, email);
    expect(row).toMatchObject({ status: "sent", attempts: 1 });
    expect((await idempotencyCounts())[row.id]).toEqual({ deliveries: 1, requests: 1 });
  });

  it("re-claims a mail whose sender died, and the late sender neither sends twice nor overwrites the outcome", async () => {
    const clock = new TestClock();
    const t = await createTestService({ clock, background: "manual" });
    const email = uniqueEmail("orphan");
    await register(t, email);
    expect((await onlyOutboxRow(t, email)).status).toBe("sending");

    clock.advance(DELIVERY_LEASE_MS);
    expect(await deliverDueMail(t.deps)).toBe(1);
    const sent = await onlyOutboxRow(t, email);
    expect(sent).toMatchObject({ status: "sent", attempts: 2 });

    // The "dead" isolate wakes up after all: the provider answers it from the idempotency key.
    await t.runDeferred();
    expect(await onlyOutboxRow(t, email)).toEqual(sent);
    expect(await mailsTo(email)).toHaveLength(1);
    expect((await idempotencyCounts())[sent.id]?.deliveries).toBe(1);
  });

  it("lets only the newest claim record the outcome when a late sender finishes during it", async () => {
    const clock = new TestClock();
    const real = standInMailer();
    let hold: { entered: () => void; release: Promise<void> } | null = null;
    // The request path sends alone; the cron's repeat of that call is held.
    const mailer: Mailer = {
      kind: "resend",
      async send(mail) {
        const held = hold;
        hold = null;
        if (held) {
          held.entered();
          await held.release;
        }
        return real.send(mail);
      },
      sendBatch: (mails, key) => real.sendBatch(mails, key),
    };
    const t = await createTestService({ clock, background: "manual", deps: { mailer } });
    const email = uniqueEmail("late-sender");
    await register(t, email);

    clock.advance(DELIVERY_LEASE_MS);
    let release!: () => void;
    const entered = new Promise<void>((entered) => {
      hold = { entered, release: new Promise<void>((r) => (release = r)) };
    });
    const cron = deliverDueMail(t.deps);
    await entered;
    // While the cron's send is in flight, the request's late attempt fails and tries to reschedule.
    await failOnceFor(email);
    await t.runDeferred();
    release();
    expect(await cron).toBe(1);

    const row = await onlyOutboxRow(t, email);
    expect(row).toMatchObject({ status: "sent", attempts: 2, lastError: null });
    expect(await mailsTo(email)).toHaveLength(1);
  });

  it("does not send twice when the provider's answer was lost and the send is retried", async () => {
    const clock = new TestClock();
    const real = standInMailer();
    let lose = true;
    // The provider accepts the mail, but the answer never arrives (e.g. the connection drops).
    const mailer: Mailer = {
      kind: "resend",
      async send(mail) {
        const result = await real.send(mail);
        if (!lose) return result;
        lose = false;
        return { ok: false, retryable: true, maybeDelivered: true, reason: "resend network_error" };
      },
      sendBatch: (mails, key) => real.sendBatch(mails, key),
    };
    const t = await createTestService({ clock, deps: { mailer } });
    const email = uniqueEmail("lost-answer");
    await register(t, email);
    await t.settle();
    expect(await onlyOutboxRow(t, email)).toMatchObject({ status: "pending", lastError: "resend network_error" });

    clock.advance(5 * 60_000);
    expect(await deliverDueMail(t.deps)).toBe(1);
    const row = await onlyOutboxRow(t, email);
    expect(row.status).toBe("sent");
    expect((await idempotencyCounts())[row.id]).toEqual({ deliveries: 1, requests: 2 });
    expect(await mailsTo(email)).toHaveLength(1);
  });
});

describe("delivery and the response", () => {
  it("sends after the response: the response costs one read and one write, the mail none", async () => {
    const t = await createTestService({ background: "manual" });
    const email = uniqueEmail("round-trips");
    const before = await t.dbRoundTrips();
    await register(t, email);
    expect((await t.dbRoundTrips()) - before).toBeLessThanOrEqual(2);
    expect(await mailsTo(email)).toHaveLength(0);

    await t.runDeferred();
    expect(await mailsTo(email)).toHaveLength(1);
  });
});

describe("the Worker's scheduled handler", () => {
  it("delivers the mail that is due", async () => {
    // Rows written "ten minutes ago" are due for the handler, which runs on the real clock.
    const t = await createTestService({ clock: new TestClock(Date.now() - 10 * 60_000) });
    const email = uniqueEmail("cron");
    await failOnceFor(email);
    await register(t, email);
    await t.settle();
    expect((await onlyOutboxRow(t, email)).status).toBe("pending");

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), t.workerEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(await onlyOutboxRow(t, email)).toMatchObject({ status: "sent", attempts: 2 });
    expect(await mailsTo(email)).toHaveLength(1);
  });
});
