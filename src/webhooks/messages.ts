import { sql, type SQL } from "drizzle-orm";
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import { webhookDeliveries, webhookEndpoints, webhookMessages } from "../db/schema.ts";
import type { EmittedEvent, MessageRow, WebhookDeps } from "./types.ts";

/** A message id (the webhook-id header): "msg_" and 128 random bits. */
export function newMessageId(): string {
  return `msg_${crypto.randomUUID().replaceAll("-", "")}`;
}

/**
 * The body sent for a message, the same bytes on every attempt: Standard Webhooks' {type, timestamp,
 * data}, with the event's id and its place in the order of all events leading data.
 */
export function messageBody(message: Pick<MessageRow, "id" | "seq" | "type" | "data" | "occurredAt">): string {
  const data = JSON.parse(message.data) as Record<string, unknown>;
  return JSON.stringify({
    type: message.type,
    timestamp: new Date(message.occurredAt).toISOString(),
    data: { event_id: message.id, sequence: message.seq, ...data },
  });
}

// The fan-out, the last statement of the batch that wrote the events: one delivery per message and
// endpoint that wants its type, for the endpoints kept in the database and the configured ones
// (known here, in memory), skipping disabled ones. It reads the message rows, so an event whose
// insert was conditional and did not happen gets no delivery. Returns the new deliveries' ids: none
// means nothing to send after the response.
export function fanOut(deps: Pick<WebhookDeps, "db" | "webhookEndpoints">, events: EmittedEvent[], now: number) {
  const { db } = deps;
  const ids = (list: EmittedEvent[]) => sql.join(list.map((event) => sql`${event.id}`), sql`, `);
  const m = webhookMessages;
  const e = webhookEndpoints;
  const fresh = sql`'pending', 0, ${now}, null, null, null, ${now}, ${now}`;
  const selects: SQL[] = [
    sql`select null, ${m.id}, ${e.id}, ${fresh} from ${m} join ${e} on ${e.source} = 'api' and ${e.enabled} = 1
      and (${e.eventTypes} is null or exists (select 1 from json_each(${e.eventTypes}) where value = ${m.type}))
      where ${m.id} in (${ids(events)})`,
  ];
  for (const endpoint of deps.webhookEndpoints) {
    const wanted = events.filter((event) => endpoint.events === null || endpoint.events.includes(event.type));
    if (wanted.length === 0) continue;
    selects.push(sql`select null, ${m.id}, ${endpoint.id}, ${fresh} from ${m} where ${m.id} in (${ids(wanted)})
      and not exists (select 1 from ${e} where ${e.id} = ${endpoint.id} and ${e.enabled} = 0)`);
  }
  const d = webhookDeliveries;
  return db.all<{ id: number }>(sql`insert into ${d} (${sql.join(
    [d.id, d.messageId, d.endpointId, d.status, d.attempts, d.nextAttemptAt, d.claimedUntil, d.lastStatus, d.lastError, d.createdAt, d.updatedAt].map((c) => sql.identifier(c.name)),
    sql`, `,
  )}) ${sql.join(selects, sql` union all `)} returning ${sql.identifier(d.id.name)}`);
}

type Statements = readonly [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]];

/**
 * Runs a write batch that includes events (their inserts are among `statements`, where the caller
 * placed them) with their fan-out as its last statement: one round trip. Answers what db.batch
 * would have answered for `statements`, and the deliveries to send. A batch with events must go
 * through here (or commitWithEvents in src/http/): without the fan-out a message reaches no one.
 */
export async function commitEvents<T extends Statements>(
  deps: Pick<WebhookDeps, "db" | "clock" | "webhookEndpoints">,
  statements: T,
  events: EmittedEvent[],
): Promise<{ results: BatchResponse<T>; deliveryIds: number[] }> {
  if (events.some((event) => !statements.includes(event.write))) throw new Error("an event's insert is missing from its batch");
  if (events.length === 0) return { results: await deps.db.batch(statements), deliveryIds: [] };
  const results = await deps.db.batch([...statements, fanOut(deps, events, deps.clock.now())]);
  const created = results.at(-1) as Array<{ id: number }>;
  return { results: results.slice(0, -1) as BatchResponse<T>, deliveryIds: created.map((row) => row.id) };
}
