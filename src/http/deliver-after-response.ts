import type { Context } from "hono";
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import type { AppEnv } from "../deps.ts";
import { deliverClaimed } from "../mail/outbox.ts";
import { deliverWebhooks } from "../webhooks/deliver.ts";
import { fanOut } from "../webhooks/messages.ts";
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
  const deps = c.var.deps;
  if (events.some((event) => !statements.includes(event.write))) throw new Error("an event's insert is missing from its batch");
  if (events.length === 0) return deps.db.batch(statements);
  const results = await deps.db.batch([...statements, fanOut(deps, events, deps.clock.now())]);
  const created = results.at(-1) as Array<{ id: number }>;
  if (created.length > 0) {
    c.var.defer(async () => {
      await deliverWebhooks(deps, created.map((row) => row.id));
    });
  }
  return results.slice(0, -1) as BatchResponse<T>;
}
