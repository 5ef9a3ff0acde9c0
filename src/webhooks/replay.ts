import { and, eq, gte, inArray, ne, sql, type SQL } from "drizzle-orm";
import { webhookDeliveries, webhookEndpoints, webhookMessages } from "../db/schema.ts";
import { commitAlongside, type Alongside } from "./endpoints.ts";
import type { WebhookDeps } from "./types.ts";

// Replay, for the admin API: send messages again, with their original webhook-id, body and
// sequence (receivers that already have them dedupe them). A delivery is queued from scratch (due
// now, the retry schedule restarted, the attempt log kept); one being sent right now is left alone.
// Each function returns the queued deliveries' ids (hand them to deliverWebhooks to send at once,
// or leave them to the cron), or null when the endpoint or message does not exist. `alongside`: the
// caller's statements committed in the batch that queues them (the admin API's audit row).

const d = webhookDeliveries;
const m = webhookMessages;

/** Which event types an endpoint takes now (null: all); undefined when there is no such endpoint. */
async function endpointEvents(deps: WebhookDeps, endpointId: string): Promise<string[] | null | undefined> {
  const configured = deps.webhookEndpoints.find((entry) => entry.id === endpointId);
  if (configured) return configured.events;
  const [row] = await deps.db
    .select({ events: webhookEndpoints.eventTypes })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.source, "api")))
    .limit(1);
  return row ? row.events : undefined;
}

function queue(deps: WebhookDeps, endpointId: string, messages: SQL | undefined, now: number) {
  const { db } = deps;
  return db
    .insert(d)
    .select(
      db
        .select({
          id: sql<null>`null`.as("id"),
          messageId: m.id,
          endpointId: sql<string>`${endpointId}`.as("endpoint_id"),
          status: sql<string>`'pending'`.as("status"),
          attempts: sql<number>`0`.as("attempts"),
          nextAttemptAt: sql<number>`${now}`.as("next_attempt_at"),
          claimedUntil: sql<null>`null`.as("claimed_until"),
          lastStatus: sql<null>`null`.as("last_status"),
          lastError: sql<null>`null`.as("last_error"),
          createdAt: sql<number>`${now}`.as("created_at"),
          updatedAt: sql<number>`${now}`.as("updated_at"),
        })
        .from(m)
        // SQLite needs a WHERE here to read the ON CONFLICT that follows as the insert's.
        .where(messages ?? sql`1`),
    )
    .onConflictDoUpdate({
      target: [d.messageId, d.endpointId],
      set: { status: "pending", attempts: 0, nextAttemptAt: now, claimedUntil: null, lastError: null, updatedAt: now },
      setWhere: ne(d.status, "sending"),
    })
    .returning({ id: d.id });
}

/**
 * One message again: to one endpoint (whatever types it takes now), or to every endpoint it was
 * delivered to.
 */
export async function replayMessage(deps: WebhookDeps, messageId: string, endpointId?: string, alongside: Alongside = []): Promise<number[] | null> {
  const { db } = deps;
  const now = deps.clock.now();
  const [message] = await db.select({ id: m.id }).from(m).where(eq(m.id, messageId)).limit(1);
  if (!message) return null;
  if (endpointId !== undefined) {
    if ((await endpointEvents(deps, endpointId)) === undefined) return null;
    const [rows] = await commitAlongside(db, alongside, [queue(deps, endpointId, eq(m.id, messageId), now)]);
    return rows.map((row) => row.id);
  }
  const [rows] = await commitAlongside(db, alongside, [
    db
      .update(d)
      .set({ status: "pending", attempts: 0, nextAttemptAt: now, claimedUntil: null, lastError: null, updatedAt: now })
      .where(and(eq(d.messageId, messageId), ne(d.status, "sending")))
      .returning({ id: d.id }),
  ]);
  return rows.map((row) => row.id);
}

/** Every message since `since` (ms) of the types the endpoint takes now, delivered before or not. */
export async function replayEndpoint(deps: WebhookDeps, endpointId: string, since: number, alongside: Alongside = []): Promise<number[] | null> {
  const events = await endpointEvents(deps, endpointId);
  if (events === undefined) return null;
  const wanted = and(gte(m.occurredAt, since), events === null ? undefined : inArray(m.type, events));
  const [rows] = await commitAlongside(deps.db, alongside, [queue(deps, endpointId, wanted, deps.clock.now())]);
  return rows.map((row) => row.id);
}
