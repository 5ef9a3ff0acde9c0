import { asc, desc, inArray } from "drizzle-orm";
import { webhookAttempts, webhookDeliveries, webhookMessages } from "../db/schema.ts";
import { messageBody } from "./messages.ts";
import type { DeliveryRow, WebhookDeps } from "./types.ts";

// What was sent, to whom, and how it went: for the dev page and the admin API.

export interface MessageLog {
  id: string;
  type: string;
  sequence: number;
  occurredAt: number;
  /** The body as it is sent. */
  payload: unknown;
  deliveries: Array<DeliveryRow & { log: Array<typeof webhookAttempts.$inferSelect> }>;
}

/** The newest messages (at most `limit`), each with its deliveries and their attempts, in one round trip. */
export async function readMessageLog(deps: Pick<WebhookDeps, "db">, limit = 100): Promise<MessageLog[]> {
  const { db } = deps;
  const newest = db.select({ id: webhookMessages.id }).from(webhookMessages).orderBy(desc(webhookMessages.seq)).limit(limit);
  const [messages, deliveries, attempts] = await db.batch([
    db.select().from(webhookMessages).orderBy(desc(webhookMessages.seq)).limit(limit),
    db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.messageId, newest)).orderBy(asc(webhookDeliveries.id)),
    db.select().from(webhookAttempts).where(inArray(webhookAttempts.messageId, newest)).orderBy(asc(webhookAttempts.id)),
  ]);
  return messages.map((message) => ({
    id: message.id,
    type: message.type,
    sequence: message.seq,
    occurredAt: message.occurredAt,
    payload: JSON.parse(messageBody(message)) as unknown,
    deliveries: deliveries
      .filter((d) => d.messageId === message.id)
      .map((d) => ({ ...d, log: attempts.filter((a) => a.deliveryId === d.id) })),
  }));
}
