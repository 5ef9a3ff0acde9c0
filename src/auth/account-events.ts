import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client.ts";

// The lifecycle events other systems may want to hear about. Every change below calls
// accountEventWrites inside the same write batch as the change itself, so whatever records an event
// (a webhook delivery row, say) is written exactly when the change is, and never for a change that
// failed. Webhooks hook in here; until then an event writes nothing.
export type AccountEvent =
  /** The account's address changed: confirmed from the new mailbox, or reverted from the old one. */
  | { type: "email.changed"; userId: string; email: string; previousEmail: string; reason: "confirmed" | "reverted" }
  /** The account and its personal data were erased. Only the id remains known, and only here. */
  | { type: "user.deleted"; userId: string };

export function accountEventWrites(_db: Db, _event: AccountEvent, _now: number): BatchItem<"sqlite">[] {
  return [];
}
