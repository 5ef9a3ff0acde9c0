import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { isUniqueViolation } from "../db/errors.ts";
import { webhookEvents } from "../db/schema.ts";
import type { AppEnv } from "../deps.ts";
import { AppError } from "../lib/errors.ts";
import { logEvent } from "../lib/log.ts";
import { parseResendEvent, resendEventWrites } from "../mail/resend-events.ts";
import { verifyResendWebhook } from "../mail/resend-webhook.ts";

// Resend's email events are about 1 KiB (metadata and tags, never the mail itself). 64 KiB leaves
// room for long tag lists and new fields while bounding what is hashed before the signature is known.
export const MAX_WEBHOOK_BYTES = 64 * 1024;

// Mounted only when RESEND_WEBHOOK_SECRET is set (src/app.ts). Not a JSON API for browsers: no CORS,
// and the raw body is read as text because the signature covers its exact bytes.
// POST /webhooks/resend
export const webhookRoutes = new Hono<AppEnv>().post(
  "/resend",
  bodyLimit({
    maxSize: MAX_WEBHOOK_BYTES,
    onError: () => {
      throw new AppError("payload_too_large");
    },
  }),
  async (c) => {
    const { db, clock, config } = c.var.deps;
    const requestId = c.var.requestId;
    const now = clock.now();
    const verified = verifyResendWebhook(
      config.resendWebhookSecret!,
      {
        id: c.req.header("svix-id") ?? c.req.header("webhook-id"),
        timestamp: c.req.header("svix-timestamp") ?? c.req.header("webhook-timestamp"),
        signature: c.req.header("svix-signature") ?? c.req.header("webhook-signature"),
        body: await c.req.text(),
      },
      now,
    );
    if (!verified.ok) {
      logEvent("webhook_refused", { requestId, reason: verified.reason });
      if (verified.reason === "malformed_json") throw new AppError("malformed_json");
      throw new AppError("invalid_signature");
    }
    const event = parseResendEvent(verified.payload);
    if (!event) throw new AppError("validation_failed", "The webhook payload is not a Resend event.");

    try {
      // The id row and the event's effects commit together: a retry of an event that failed to
      // apply is applied, and one that was applied hits the primary key and changes nothing.
      await db.batch([
        db.insert(webhookEvents).values({ id: verified.id, type: event.type, receivedAt: now }),
        ...resendEventWrites(db, event, now),
      ]);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      logEvent("webhook_duplicate", { requestId, type: event.type });
      return c.body(null, 204);
    }
    logEvent("webhook_received", { requestId, type: event.type });
    return c.body(null, 204);
  },
);
