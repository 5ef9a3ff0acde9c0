import { beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/config.ts";
import { MAX_WEBHOOK_BYTES } from "../../../src/routes/webhooks.ts";
import { MAIL_MIN_INTERVAL_MS } from "../../../src/limits/mail-budget.ts";
import { mailsTo, uniqueEmail } from "../../support/mail.ts";
import { onlyOutboxRow, outboxTo, suppressionOf, webhookEventRows } from "../../support/outbox.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { emailEvent, newWebhookSecret, postWebhook } from "../../support/webhooks.ts";

const secret = newWebhookSecret();

// The webhook library also compares timestamps with the real time, so this clock starts there.
async function webhookService() {
  const clock = new TestClock(Date.now());
  const t = await createTestService({ clock, settings: { RESEND_WEBHOOK_SECRET: secret } });
  return { clock, t };
}

/** A registered user whose confirmation mail Resend accepted, with Resend's id for it. */
async function sentMail(t: TestService) {
  const email = uniqueEmail("hook");
  expect((await t.post("/v1/register", { email, password: "correct horse battery" })).status).toBe(202);
  await t.settle();
  const row = await onlyOutboxRow(t, email);
  expect(row.status).toBe("sent");
  return { email, emailId: row.providerId! };
}

async function errorCode(res: Response) {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe("POST /webhooks/resend: suppression", () => {
  let t: TestService;
  let clock: TestClock;
  beforeAll(async () => {
    ({ t, clock } = await webhookService());
  });

  it("stops mail to an address after a hard bounce: the next mail is not sent and says suppressed", async () => {
    const { email, emailId } = await sentMail(t);
    const bounce = emailEvent("email.bounced", emailId, email, {
      bounce: { type: "Permanent", subType: "General", message: "The recipient's mailbox does not exist." },
    });
    const res = await postWebhook(t, bounce, { secret });
    expect(res.status).toBe(204);
    expect((await onlyOutboxRow(t, email)).status).toBe("bounced");
    expect(await suppressionOf(t, email)).toEqual([expect.objectContaining({ email, reason: "hard bounce" })]);

    clock.advance(MAIL_MIN_INTERVAL_MS);
    expect((await t.post("/v1/confirm/resend", { email })).status).toBe(202);
    await t.settle();
    const [, second] = await outboxTo(t, email);
    expect(second).toMatchObject({ status: "suppressed", lastError: "address suppressed: hard bounce", payload: null });
    expect(await mailsTo(email)).toHaveLength(1);
  });

  it("stops mail to an address that complained", async () => {
    const { email, emailId } = await sentMail(t);
    expect((await postWebhook(t, emailEvent("email.complained", emailId, email), { secret })).status).toBe(204);
    expect((await onlyOutboxRow(t, email)).status).toBe("complained");
    expect(await suppressionOf(t, email)).toEqual([expect.objectContaining({ reason: "complaint" })]);

    clock.advance(MAIL_MIN_INTERVAL_MS);
    await t.post("/v1/confirm/resend", { email });
    await t.settle();
    expect((await outboxTo(t, email)).at(-1)?.status).toBe("suppressed");
    expect(await mailsTo(email)).toHaveLength(1);
  });

  it("marks a soft bounce on the mail but keeps mailing the address", async () => {
    const { email, emailId } = await sentMail(t);
    const bounce = emailEvent("email.bounced", emailId, email, { bounce: { type: "Transient", subType: "MailboxFull", message: "Full." } });
    expect((await postWebhook(t, bounce, { secret })).status).toBe(204);
    expect((await onlyOutboxRow(t, email)).status).toBe("bounced");
    expect(await suppressionOf(t, email)).toEqual([]);

    clock.advance(MAIL_MIN_INTERVAL_MS);
    await t.post("/v1/confirm/resend", { email });
    await t.settle();
    expect(await mailsTo(email)).toHaveLength(2);
  });
});

describe("POST /webhooks/resend: delivery status", () => {
  let t: TestService;
  beforeAll(async () => {
    ({ t } = await webhookService());
  });

  it("records delayed and then delivered, and a late delay does not undo delivered", async () => {
    const { email, emailId } = await sentMail(t);
    expect((await postWebhook(t, emailEvent("email.delivery_delayed", emailId, email), { secret })).status).toBe(204);
    expect((await onlyOutboxRow(t, email)).status).toBe("delayed");
    expect((await postWebhook(t, emailEvent("email.delivered", emailId, email), { secret })).status).toBe(204);
    expect((await onlyOutboxRow(t, email)).status).toBe("delivered");
    expect((await postWebhook(t, emailEvent("email.delivery_delayed", emailId, email), { secret })).status).toBe(204);
    expect((await onlyOutboxRow(t, email)).status).toBe("delivered");
  });

  it("ignores a webhook id it has already seen", async () => {
    const { email, emailId } = await sentMail(t);
    const id = `msg_${crypto.randomUUID()}`;
    expect((await postWebhook(t, emailEvent("email.delivery_delayed", emailId, email), { secret, id })).status).toBe(204);
    expect((await postWebhook(t, emailEvent("email.delivered", emailId, email), { secret, id })).status).toBe(204);
    expect((await onlyOutboxRow(t, email)).status).toBe("delayed");
    expect((await webhookEventRows(t)).filter((row) => row.id === id)).toEqual([
      expect.objectContaining({ id, type: "email.delivery_delayed" }),
    ]);
  });

  it("accepts and records event types it does not act on", async () => {
    const { email, emailId } = await sentMail(t);
    const id = `msg_${crypto.randomUUID()}`;
    expect((await postWebhook(t, emailEvent("email.opened", emailId, email), { secret, id })).status).toBe(204);
    expect((await onlyOutboxRow(t, email)).status).toBe("sent");
    expect((await webhookEventRows(t)).some((row) => row.id === id && row.type === "email.opened")).toBe(true);
  });
});

describe("POST /webhooks/resend: refused requests write nothing", () => {
  const cases: Array<{ name: string; send: (t: TestService, clock: TestClock, event: unknown) => Promise<Response> }> = [
    {
      name: "no signature headers",
      send: (t, _clock, event) =>
        t.request("/webhooks/resend", { method: "POST", body: JSON.stringify(event), headers: { "content-type": "application/json" } }),
    },
    { name: "a signature made with another secret", send: (t, _clock, event) => postWebhook(t, event, { secret: newWebhookSecret() }) },
    {
      name: "a body changed after signing",
      send: (t, _clock, event) => postWebhook(t, event, { secret, signedBody: JSON.stringify({ ...(event as object), type: "email.opened" }) }),
    },
    {
      name: "a signature header that is not v1",
      send: (t, _clock, event) => postWebhook(t, event, { secret, headers: { "svix-signature": "v2,AAAA" } }),
    },
    {
      name: "a timestamp that is not a number",
      send: (t, _clock, event) => postWebhook(t, event, { secret, headers: { "svix-timestamp": "yesterday" } }),
    },
    {
      name: "a correctly signed webhook more than 5 minutes old by the app's clock",
      send: async (t, clock, event) => {
        const signedAt = Math.floor(clock.now() / 1000);
        clock.advance(5 * 60_000 + 1000);
        return postWebhook(t, event, { secret, timestamp: signedAt });
      },
    },
    {
      name: "a timestamp more than 5 minutes in the future",
      send: (t, clock, event) => postWebhook(t, event, { secret, timestamp: Math.floor(clock.now() / 1000) + 6 * 60 }),
    },
  ];

  it.each(cases)("401 invalid_signature for $name", async ({ send }) => {
    const { clock, t } = await webhookService();
    const { email, emailId } = await sentMail(t);
    const event = emailEvent("email.bounced", emailId, email, { bounce: { type: "Permanent", subType: "General", message: "x" } });
    const res = await send(t, clock, event);
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("invalid_signature");
    expect(await webhookEventRows(t)).toEqual([]);
    expect(await suppressionOf(t, email)).toEqual([]);
    expect((await onlyOutboxRow(t, email)).status).toBe("sent");
  });

  it("accepts a webhook signed 4 minutes ago by the app's clock", async () => {
    const { clock, t } = await webhookService();
    const signedAt = Math.floor(clock.now() / 1000);
    clock.advance(4 * 60_000);
    const res = await postWebhook(t, emailEvent("email.opened", "e", "a@example.test"), { secret, timestamp: signedAt });
    expect(res.status).toBe(204);
  });

  it("400 for a signed body that is not JSON or not an event", async () => {
    const { t } = await webhookService();
    const notJson = await postWebhook(t, "{not json", { secret });
    expect(notJson.status).toBe(400);
    expect(await errorCode(notJson)).toBe("malformed_json");
    const notEvent = await postWebhook(t, { hello: "world" }, { secret });
    expect(notEvent.status).toBe(400);
    expect(await errorCode(notEvent)).toBe("validation_failed");
    expect(await webhookEventRows(t)).toEqual([]);
  });

  it("413 for a body over 64 KiB", async () => {
    const { t } = await webhookService();
    const event = { ...emailEvent("email.opened", "e", "a@example.test"), padding: "x".repeat(MAX_WEBHOOK_BYTES) };
    const res = await postWebhook(t, event, { secret });
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe("payload_too_large");
  });
});

describe("POST /webhooks/resend without a configured secret", () => {
  it("does not exist (404)", async () => {
    const t = await createTestService();
    const res = await postWebhook(t, emailEvent("email.delivered", "e", "a@example.test"), { secret });
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("not_found");
  });

  it("refuses to start with a secret that is not whsec_ and base64", async () => {
    const t = await createTestService();
    for (const bad of ["not-a-secret", "whsec_", "whsec_abc", "whsec_!!!!"]) {
      expect(() => parseConfig({ ...t.settings, RESEND_WEBHOOK_SECRET: bad })).toThrow(/RESEND_WEBHOOK_SECRET/);
    }
    expect(parseConfig({ ...t.settings, RESEND_WEBHOOK_SECRET: secret }).resendWebhookSecret).toBe(secret);
  });
});
