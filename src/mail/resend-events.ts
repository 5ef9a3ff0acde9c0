import { and, eq, inArray } from "drizzle-orm";
import * as z from "zod";
import { normalizeEmail } from "../lib/email.ts";
import type { Db } from "../db/client.ts";
import { outbox, suppressions, type OutboxStatus } from "../db/schema.ts";

// Only the fields acted on are read; Resend adds fields over time and sends event types we ignore.
export const ResendEventBody = z.object({
  type: z.string().min(1).max(100),
  data: z
    .object({
      email_id: z.string().min(1).max(256).optional(),
      to: z.array(z.string().max(1024)).max(50).optional(),
      bounce: z.object({ type: z.string().max(100).optional() }).optional(),
    })
    .optional(),
});

export type ResendEvent = z.infer<typeof ResendEventBody>;

export function parseResendEvent(payload: unknown): ResendEvent | null {
  const parsed = ResendEventBody.safeParse(payload);
  return parsed.success ? parsed.data : null;
}

// Which status each event moves a sent mail to, and from which: events can arrive out of order,
// so a late "delivery_delayed" never overwrites "delivered" and nothing overwrites a complaint.
const transitions: Record<string, { to: OutboxStatus; from: OutboxStatus[]; suppress?: (event: ResendEvent) => string | null }> = {
  "email.delivery_delayed": { to: "delayed", from: ["sent"] },
  "email.delivered": { to: "delivered", from: ["sent", "delayed"] },
  "email.bounced": {
    to: "bounced",
    from: ["sent", "delayed", "delivered"],
    // A transient (soft) bounce may pass; only a permanent one means the address cannot receive mail.
    suppress: (event) => (event.data?.bounce?.type === "Permanent" ? "hard bounce" : null),
  },
  "email.complained": { to: "complained", from: ["sent", "delayed", "delivered", "bounced"], suppress: () => "complaint" },
};

/** The writes one event causes: the outbox row found by Resend's email id, and the suppression list. */
export function resendEventWrites(db: Db, event: ResendEvent, now: number) {
  const transition = transitions[event.type];
  const emailId = event.data?.email_id;
  if (!transition || !emailId) return [];
  const writes = [
    db
      .update(outbox)
      .set({ status: transition.to, updatedAt: now })
      .where(and(eq(outbox.providerId, emailId), inArray(outbox.status, transition.from))),
  ];
  const reason = transition.suppress?.(event) ?? null;
  const addresses = [...new Set((event.data?.to ?? []).map(normalizeEmail).filter(Boolean))];
  if (reason && addresses.length > 0) {
    return [
      ...writes,
      db
        .insert(suppressions)
        .values(addresses.map((email) => ({ email, reason, createdAt: now })))
        .onConflictDoNothing(),
    ];
  }
  return writes;
}
