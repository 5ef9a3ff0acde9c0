import type { Context } from "hono";
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import type { AppEnv } from "../deps.ts";
import { deliverClaimed } from "../mail/outbox.ts";
import { deliverWebhooks } from "../webhooks/deliver.ts";
import { commitEvents } from "../webhooks/messages.ts";
import type { EmittedEvent } from "../webhooks/types.ts";

type OutboxRow = Parameters<typeof deliverClaimed>[1];
type Statements = readonly [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]];

// Delivery starts after the response; a failure leaves the row for the cron (src/mail/outbox.ts).
export function deliverAfterResponse(c: Context<AppEnv>, rows: OutboxRow[]) {
  const deps = c.var.deps;
  for (const row of rows) c.var.defer(() => deliverClaimed(deps, row));
}

/**
 * Commits a write batch that includes webhook events (src/auth/events.ts; their inserts are among
 * `statements`, where the caller placed them), with their fan-out to the endpoints as its last
 * statement: one round trip, as without events. The deliveries it created are sent after the
 * response; failures are retried by the cron (src/webhooks/deliver.ts). Answers what db.batch
 * would have answered for `statements`.
 */
export async function commitWithEvents<T extends Statements>(c: Context<AppEnv>, statements: T, events: EmittedEvent[]): Promise<BatchResponse<T>> {
  const { results, deliveryIds } = await commitEvents(c.var.deps, statements, events);
  deliverWebhooksAfterResponse(c, deliveryIds);
  return results;
}

/** Sends these deliveries (from commitEvents) after the response; what fails is left to the cron. */
export function deliverWebhooksAfterResponse(c: Context<AppEnv>, deliveryIds: number[]) {
  if (deliveryIds.length === 0) return;
  const deps = c.var.deps;
  c.var.defer(async () => {
    await deliverWebhooks(deps, deliveryIds);
  });
}
