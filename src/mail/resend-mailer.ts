import { Resend, type ErrorResponse } from "resend";
import { parseRetryAfter } from "../lib/retry-after.ts";
import type { Mailer, OutgoingMail, SendResult } from "./types.ts";

const DEFAULT_BASE_URL = "https://api.resend.com";

/**
 * A Mailer that sends through the Resend SDK. The API address is always handed to the SDK's
 * constructor: its fallback is process.env.RESEND_BASE_URL, which is empty inside the Worker.
 */
export function createResendMailer(opts: { apiKey: string; baseUrl?: string }): Mailer {
  const client = new Resend(opts.apiKey, { baseUrl: trimTrailingSlashes(opts.baseUrl ?? DEFAULT_BASE_URL) });
  return {
    kind: "resend",
    async send(mail: OutgoingMail): Promise<SendResult> {
      try {
        const { data, error, headers } = await client.emails.send(
          { from: mail.from, to: mail.to, subject: mail.subject, html: mail.html, text: mail.text },
          // The outbox row id makes a retry after a lost answer a no-op at Resend, not a second mail.
          { idempotencyKey: mail.id },
        );
        if (error) return classifyFailure(error, headers);
        return { ok: true, providerId: data?.id ?? null };
      } catch {
        // The SDK reports failures as values; this only catches its bugs. Nothing of the mail is kept.
        return { ok: false, retryable: true, maybeDelivered: true, reason: "resend sdk_error" };
      }
    },
    async sendBatch(mails: OutgoingMail[], idempotencyKey: string): Promise<SendResult[]> {
      try {
        // Permissive: a mail Resend refuses (listed by index) does not hold back the others, whose
        // ids come back in order.
        const { data, error, headers } = await client.batch.send(
          mails.map((mail) => ({ from: mail.from, to: mail.to, subject: mail.subject, html: mail.html, text: mail.text })),
          { idempotencyKey, batchValidation: "permissive" },
        );
        if (error) {
          const failure = classifyFailure(error, headers);
          return mails.map(() => failure);
        }
        const refused = new Set((data?.errors ?? []).map((e) => e.index));
        const ids = data?.data ?? [];
        let next = 0;
        return mails.map((_, index): SendResult =>
          refused.has(index)
            ? { ok: false, retryable: false, maybeDelivered: false, reason: "resend 422 validation_error" }
            : { ok: true, providerId: ids[next++]?.id ?? null },
        );
      } catch {
        return mails.map(() => ({ ok: false, retryable: true, maybeDelivered: true, reason: "resend sdk_error" }));
      }
    },
  };
}

// The SDK appends paths ("/emails") to the base URL as plain strings.
function trimTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, "");
}

/**
 * Network errors, 408, 409 concurrent_idempotent_requests, 429 and 5xx are worth retrying; any
 * other 4xx will fail the same way again. Of those, only a 429 and the 4xx say for certain that
 * nothing was sent; after no answer, a 408, a 409 or a 5xx the mail may be on its way, so the retry
 * must carry the same Idempotency-Key. The reason holds status and error name only, never Resend's
 * message, which can echo the recipient's address.
 */
export function classifyFailure(error: ErrorResponse, headers: Record<string, string> | null): SendResult {
  const status = typeof error.statusCode === "number" ? error.statusCode : null;
  const name = sanitizeName(error.name);
  if (status === null) {
    // headers is null only when no HTTP answer arrived at all.
    return { ok: false, retryable: true, maybeDelivered: true, reason: headers === null ? "resend network_error" : `resend ${name}` };
  }
  const retryable =
    status === 408 || status === 429 || status >= 500 || (status === 409 && name === "concurrent_idempotent_requests");
  const reason = `resend ${status} ${name}`;
  if (!retryable) return { ok: false, retryable: false, maybeDelivered: false, reason };
  const maybeDelivered = status !== 429;
  const retryAfterSeconds = parseRetryAfter(headers?.["retry-after"]);
  return retryAfterSeconds === null
    ? { ok: false, retryable, maybeDelivered, reason }
    : { ok: false, retryable, maybeDelivered, reason, retryAfterSeconds };
}

function sanitizeName(name: unknown): string {
  return typeof name === "string" && /^[a-z_]{1,64}$/.test(name) ? name : "unknown_error";
}
