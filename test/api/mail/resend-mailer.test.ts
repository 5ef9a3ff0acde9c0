import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { parseRetryAfter } from "../../../src/lib/retry-after.ts";
import { createResendMailer } from "../../../src/mail/resend-mailer.ts";
import type { OutgoingMail } from "../../../src/mail/types.ts";

// The stand-in is shared by every test file running in parallel: each test mails its own random
// address and scopes failure modes to it, so no test sees another's mail or failures.
const standInUrl = readStandInUrl();
const apiKey = "re_test_key_123";
let recipient = "";

function readStandInUrl(): string {
  const url = (env as unknown as Record<string, unknown>).RESEND_STAND_IN_URL;
  if (typeof url !== "string" || url === "") throw new Error("RESEND_STAND_IN_URL is not bound");
  return url;
}

function makeMail(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  recipient = `${crypto.randomUUID()}@example.test`;
  return {
    id: crypto.randomUUID(),
    to: recipient,
    from: "Acme <no-reply@acme.test>",
    subject: "Confirm your email address",
    html: "<p>Hi <b>Ana</b></p>",
    text: "Hi Ana",
    ...overrides,
  };
}

async function callStandIn<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${standInUrl}${path}`, init);
  expect(response.ok).toBe(true);
  return (await response.json()) as T;
}

interface ReceivedMail {
  id: string;
  headers: { authorization: string | null; idempotencyKey: string | null };
  body: Record<string, unknown>;
}

function receivedBy(to: string): Promise<ReceivedMail[]> {
  return callStandIn(`/_test/messages?to=${encodeURIComponent(to)}`);
}

function failNextSends(to: string, failure: Record<string, unknown>): Promise<unknown> {
  return callStandIn("/_test/failure", { method: "POST", body: JSON.stringify({ ...failure, to }) });
}

afterEach(async () => {
  if (recipient) await failNextSends(recipient, { mode: "none" });
});

describe("createResendMailer against the Resend stand-in", () => {
  const mailer = createResendMailer({ apiKey, baseUrl: standInUrl });

  it("is the resend kind", () => {
    expect(mailer.kind).toBe("resend");
  });

  it("sends the mail with the key, every field and the outbox id as Idempotency-Key", async () => {
    const mail = makeMail();
    const result = await mailer.send(mail);

    const [received, ...others] = await receivedBy(mail.to);
    expect(others).toEqual([]);
    expect(result).toEqual({ ok: true, providerId: received?.id });
    expect(received?.headers).toEqual({ authorization: `Bearer ${apiKey}`, idempotencyKey: mail.id });
    expect(received?.body).toMatchObject({
      from: mail.from,
      to: mail.to,
      subject: mail.subject,
      html: mail.html,
      text: mail.text,
    });
  });

  it("accepts a base URL with a trailing slash", async () => {
    const mail = makeMail();
    const result = await createResendMailer({ apiKey, baseUrl: `${standInUrl}/` }).send(mail);
    expect(result.ok).toBe(true);
    expect(await receivedBy(mail.to)).toHaveLength(1);
  });

  it("delivers a mail sent twice with the same id once, answering the same provider id", async () => {
    const mail = makeMail();
    const first = await mailer.send(mail);
    const second = await mailer.send(mail);

    expect(first.ok && second.ok).toBe(true);
    expect(second).toEqual(first);
    expect(await receivedBy(mail.to)).toHaveLength(1);
    const counts = await callStandIn<Record<string, { deliveries: number; requests: number }>>("/_test/idempotency");
    expect(counts[mail.id]).toEqual({ deliveries: 1, requests: 2 });
  });

  it("delivers on the retry after a failed attempt", async () => {
    const mail = makeMail();
    await failNextSends(mail.to, { mode: "status", status: 500, times: 1 });

    expect((await mailer.send(mail)).ok).toBe(false);
    expect((await mailer.send(mail)).ok).toBe(true);
    expect(await receivedBy(mail.to)).toHaveLength(1);
  });
});

describe("failure classification", () => {
  const mailer = createResendMailer({ apiKey, baseUrl: standInUrl });

  it("treats a 500 as retryable", async () => {
    const mail = makeMail();
    await failNextSends(mail.to, { mode: "status", status: 500 });
    expect(await mailer.send(mail)).toEqual({ ok: false, retryable: true, maybeDelivered: true, reason: "resend 500 internal_server_error" });
    expect(await receivedBy(mail.to)).toEqual([]);
  });

  it("treats a 429 as retryable and passes on Retry-After", async () => {
    const mail = makeMail();
    await failNextSends(mail.to, { mode: "status", status: 429, retryAfterSeconds: 7 });
    expect(await mailer.send(mail)).toEqual({
      ok: false,
      retryable: true,
      maybeDelivered: false,
      reason: "resend 429 rate_limit_exceeded",
      retryAfterSeconds: 7,
    });
  });

  it("treats a 429 without Retry-After as retryable with no delay given", async () => {
    const mail = makeMail();
    await failNextSends(mail.to, { mode: "status", status: 429 });
    const result = await mailer.send(mail);
    expect(result).toEqual({ ok: false, retryable: true, maybeDelivered: false, reason: "resend 429 rate_limit_exceeded" });
  });

  it("treats a 422 as permanent", async () => {
    const mail = makeMail();
    await failNextSends(mail.to, { mode: "status", status: 422 });
    expect(await mailer.send(mail)).toEqual({ ok: false, retryable: false, maybeDelivered: false, reason: "resend 422 validation_error" });
  });

  it("treats a connection reset without an answer as a retryable network error", async () => {
    const mail = makeMail();
    await failNextSends(mail.to, { mode: "reset" });
    expect(await mailer.send(mail)).toEqual({ ok: false, retryable: true, maybeDelivered: true, reason: "resend network_error" });
  });

  it("treats a refused connection as a retryable network error", async () => {
    const unreachable = createResendMailer({ apiKey, baseUrl: "http://127.0.0.1:1" });
    expect(await unreachable.send(makeMail())).toEqual({ ok: false, retryable: true, maybeDelivered: true, reason: "resend network_error" });
  });

  it("keeps the recipient and the key out of the reason", async () => {
    const mail = makeMail();
    await failNextSends(mail.to, { mode: "status", status: 422 });
    const result = await mailer.send(mail);
    expect(JSON.stringify(result)).not.toContain(mail.to);
    expect(JSON.stringify(result)).not.toContain(apiKey);
  });
});

describe("sendBatch against the Resend stand-in", () => {
  const mailer = createResendMailer({ apiKey, baseUrl: standInUrl });

  it("sends every mail in one call under the batch's key and answers each mail's id in order", async () => {
    const mails = [makeMail(), makeMail(), makeMail()];
    const key = `outbox-batch/${crypto.randomUUID()}`;
    const results = await mailer.sendBatch(mails, key);
    const received = await Promise.all(mails.map(async (m) => (await receivedBy(m.to))[0]));
    expect(results).toEqual(received.map((r) => ({ ok: true, providerId: r?.id })));
    expect(received.map((r) => r?.headers.idempotencyKey)).toEqual([key, key, key]);
  });

  it("delivers a batch repeated under its key once", async () => {
    const mails = [makeMail(), makeMail()];
    const key = `outbox-batch/${crypto.randomUUID()}`;
    const first = await mailer.sendBatch(mails, key);
    expect(await mailer.sendBatch(mails, key)).toEqual(first);
    for (const mail of mails) expect(await receivedBy(mail.to)).toHaveLength(1);
  });

  it("fails only the mail Resend refuses, and every mail alike when the call fails", async () => {
    const good = makeMail();
    const refused = makeMail({ subject: "" });
    expect(await mailer.sendBatch([good, refused], `outbox-batch/${crypto.randomUUID()}`)).toEqual([
      { ok: true, providerId: (await receivedBy(good.to))[0]?.id ?? expect.any(String) },
      { ok: false, retryable: false, maybeDelivered: false, reason: "resend 422 validation_error" },
    ]);
    const mails = [makeMail(), makeMail()];
    await failNextSends(mails[1]!.to, { mode: "status", status: 429, times: 1 });
    const failure = { ok: false, retryable: true, maybeDelivered: false, reason: "resend 429 rate_limit_exceeded" };
    expect(await mailer.sendBatch(mails, `outbox-batch/${crypto.randomUUID()}`)).toEqual([failure, failure]);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-03-05T14:00:00Z");

  it.each([
    ["7", 7],
    [" 120 ", 120],
    ["Thu, 05 Mar 2026 14:00:30 GMT", 30],
    ["Thu, 05 Mar 2026 13:59:00 GMT", 0],
    ["soon", null],
    ["-5", null],
    [undefined, null],
  ])("reads %j as %j seconds", (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});
