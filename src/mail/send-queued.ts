import type { Context } from "hono";
import type { AppEnv } from "../http/context.ts";
import { deliverClaimed } from "./outbox.ts";

type OutboxRow = Parameters<typeof deliverClaimed>[1];

// Delivery starts after the response; a failure leaves the row for the cron (src/mail/outbox.ts).
export function sendQueued(c: Context<AppEnv>, rows: OutboxRow[]) {
  const deps = c.var.deps;
  for (const row of rows) c.var.defer(() => deliverClaimed(deps, row));
}
