import { Webhook } from "standardwebhooks";
import { parseRetryAfter } from "../lib/retry-after.ts";
import { messageBody } from "./messages.ts";
import type { MessageRow, WebhookDeps } from "./types.ts";

// One attempt to deliver one message to one endpoint, signed the Standard Webhooks way.

export const WEBHOOK_TIMEOUT_MS = 15_000;
/** How much of an endpoint's answer the attempt log keeps. */
export const EXCERPT_BYTES = 1024;
export const USER_AGENT = "edge-auth-webhooks/1";

export interface AttemptResult {
  /** The HTTP status; null when no answer came. */
  status: number | null;
  latencyMs: number;
  excerpt: string | null;
  /** Why there was no answer, or what the answer means for delivery ("HTTP 500"). */
  error: string | null;
  retryAfterSeconds: number | null;
}

/**
 * webhook-signature: "v1,<base64 HMAC-SHA256 of id.timestamp.body>" per secret, space-separated,
 * computed by the standardwebhooks package. During a rotation both secrets sign, so a receiver that
 * knows either one accepts the message.
 */
export function signatureHeader(secrets: string[], id: string, timestampMs: number, body: string): string {
  return secrets.map((secret) => new Webhook(secret).sign(id, new Date(timestampMs), body)).join(" ");
}

export async function postMessage(deps: WebhookDeps, target: { url: string; secrets: string[] }, message: MessageRow): Promise<AttemptResult> {
  const body = messageBody(message);
  // Signed at each attempt with its own time: a receiver refuses messages signed too long ago
  // (standardwebhooks: 5 minutes), which is what stops a captured request being replayed later.
  const now = deps.clock.now();
  const headers = {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    "webhook-id": message.id,
    "webhook-timestamp": String(Math.floor(now / 1000)),
    "webhook-signature": signatureHeader(target.secrets, message.id, now, body),
  };
  const timeoutMs = deps.webhookTimeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const started = Date.now();
  try {
    const res = await (deps.fetch ?? fetch)(target.url, {
      method: "POST",
      headers,
      body,
      // A redirect is an answer, not a new address to post to: following it would let an endpoint
      // send our signed payload (and our request) anywhere, including inside a private network.
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const excerpt = await readExcerpt(res);
    const latencyMs = Date.now() - started;
    const retryable = res.status === 429 || res.status === 503;
    return {
      status: res.status,
      latencyMs,
      excerpt,
      error: res.ok ? null : res.status >= 300 && res.status < 400 ? `HTTP ${res.status} (redirects are not followed)` : `HTTP ${res.status}`,
      retryAfterSeconds: retryable ? parseRetryAfter(res.headers.get("retry-after")) : null,
    };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return {
      status: null,
      latencyMs: Date.now() - started,
      excerpt: null,
      error: timedOut ? `no answer within ${timeoutMs} ms` : "network error",
      retryAfterSeconds: null,
    };
  }
}

/** The first EXCERPT_BYTES of the body as text; the rest is not read. */
async function readExcerpt(res: Response): Promise<string | null> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut off midway still has its start.
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, EXCERPT_BYTES));
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - at);
    bytes.set(part, at);
    at += part.length;
    if (at >= bytes.length) break;
  }
  // stream: a character cut at the limit is left out rather than replaced, so the excerpt stays within it.
  return bytes.length === 0 ? null : new TextDecoder().decode(bytes, { stream: true });
}
