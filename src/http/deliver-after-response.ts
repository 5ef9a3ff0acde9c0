import type { Context } from "hono";
import type { AppEnv } from "../deps.ts";
import { deliverClaimed } from "../mail/outbox.ts";

type OutboxRow = Parameters<typeof deliverClaimed>[1];

// Delivery starts after the response; a failure leaves the row for the cron (src/mail/outbox.ts).
export function deliverAfterResponse(c: Context<AppEnv>, rows: OutboxRow[]) {
  const deps = c.var.deps;
  for (const row of rows) c.var.defer(() => deliverClaimed(deps, row));
}
