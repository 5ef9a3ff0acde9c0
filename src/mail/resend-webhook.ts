import { Resend } from "resend";

// Svix signs id, timestamp and body together; a captured webhook replayed later is refused by
// the timestamp window, and one replayed within it by its id (webhook_events).
export const WEBHOOK_TOLERANCE_MS = 5 * 60_000;

export interface SignedWebhook {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  /** The raw body exactly as received: the signature covers its bytes, not a re-serialised JSON. */
  body: string;
}

export type WebhookVerification =
  | { ok: true; id: string; payload: unknown }
  | { ok: false; reason: "bad_headers" | "timestamp_out_of_range" | "signature_mismatch" | "malformed_json" };

/**
 * Checks a Resend (Svix / Standard Webhooks) signature with the SDK's verifier. The SDK compares
 * the timestamp with Date.now; the app's clock is checked first so the window follows deps.clock.
 */
export function verifyResendWebhook(secret: string, webhook: SignedWebhook, now: number): WebhookVerification {
  const { id, timestamp, signature, body } = webhook;
  if (!id || !timestamp || !signature || id.length > 256 || signature.length > 4096) return { ok: false, reason: "bad_headers" };
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now - Number(timestamp) * 1000) > WEBHOOK_TOLERANCE_MS) {
    return { ok: false, reason: "timestamp_out_of_range" };
  }
  try {
    // verify() works offline; the client only insists on being given some API key to exist.
    const payload = new Resend("re_unused_for_verification").webhooks.verify({
      payload: body,
      headers: { id, timestamp, signature },
      webhookSecret: secret,
    });
    return { ok: true, id, payload };
  } catch (err) {
    // The body is parsed only once its signature matched.
    return { ok: false, reason: err instanceof SyntaxError ? "malformed_json" : "signature_mismatch" };
  }
}
