import { encodeBase64 } from "hono/utils/encode";
import type { TestService } from "./service.ts";

export function newWebhookSecret(): string {
  return `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;
}

// Signed here with Web Crypto, independently of the library the Worker verifies with:
// base64(HMAC-SHA256(secret, "<id>.<timestamp>.<body>")), sent as "v1,<signature>".
export async function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const keyBytes = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (ch) => ch.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${encodeBase64(mac)}`;
}

export interface WebhookOptions {
  secret: string;
  id?: string;
  /** Seconds; defaults to the service clock's now. */
  timestamp?: number;
  headers?: Record<string, string>;
  /** Sign this instead of the body actually sent. */
  signedBody?: string;
}

export async function postWebhook(t: TestService, event: unknown, options: WebhookOptions) {
  const body = typeof event === "string" ? event : JSON.stringify(event);
  const id = options.id ?? `msg_${crypto.randomUUID().replaceAll("-", "")}`;
  const timestamp = options.timestamp ?? Math.floor(t.deps.clock.now() / 1000);
  const signature = await signWebhook(options.secret, id, timestamp, options.signedBody ?? body);
  return t.request("/webhooks/resend", {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "svix-id": id,
      "svix-timestamp": String(timestamp),
      "svix-signature": signature,
      ...options.headers,
    },
  });
}

export function emailEvent(type: string, emailId: string, to: string, extra: Record<string, unknown> = {}) {
  const at = new Date().toISOString();
  return {
    type,
    created_at: at,
    data: {
      created_at: at,
      email_id: emailId,
      message_id: `<${emailId}@example.test>`,
      from: "Acme <no-reply@acme.test>",
      to: [to],
      subject: "Confirm your email address for Acme",
      ...extra,
    },
  };
}
