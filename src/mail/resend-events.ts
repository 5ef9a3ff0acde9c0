import * as z from "zod/mini";
import { and, eq, inArray } from "drizzle-orm";
import { normalizeEmail } from "../lib/email.ts";
import { ENGLISH } from "../lib/zod.ts";
import type { Db } from "../db/client.ts";
import { outbox, suppressions, type OutboxStatus } from "../db/schema.ts";

// Only the fields acted on are read; Resend adds fields over time and sends event types we ignore.
const EventSchema = z.object({
  type: z.string().check(z.minLength(1), z.maxLength(100)),
  data: z.optional(
    z.object({
      email_id: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
      to: z.optional(z.array(z.string().check(z.maxLength(1024))).check(z.maxLength(50))),
      bounce: z.optional(z.object({ type: z.optional(z.string().check(z.maxLength(100))) })),
    }),
  ),
});

export type ResendEvent = z.infer<typeof EventSchema>;

export function parseResendEvent(payload: unknown): ResendEvent | null {
  const parsed = EventSchema.safeParse(payload, ENGLISH);
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
