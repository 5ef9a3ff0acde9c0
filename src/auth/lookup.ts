import { eq } from "drizzle-orm";
import { users } from "../db/schema.ts";
import type { Deps } from "../http/context.ts";
import { bumpCounter, countInWindow, mailCounterKey, readCounter, type MailKind } from "./rate-limit.ts";

const HOUR_MS = 3600_000;

// One round trip: the account (if any) and the address's mail budgets. The caller then writes one
// batch, on every path, so known and unknown addresses cost the same.
export async function lookupAccount(deps: Deps, email: string, kinds: MailKind[]) {
  const { db, config } = deps;
  const keys = await Promise.all(kinds.map((kind) => mailCounterKey(kind, email)));
  const [userRows, ...counters] = await db.batch([
    db.select().from(users).where(eq(users.email, email)).limit(1),
    ...keys.map((key) => readCounter(db, key)),
  ]);
  const window = { limit: config.mailPerAddressPerHour, windowMs: HOUR_MS };
  return {
    user: userRows[0],
    /** Whether one more mail of this kind may go to the address now. */
    mailAllowed(kind: MailKind, now: number) {
      const index = kinds.indexOf(kind);
      return countInWindow(counters[index]?.[0], now) < window.limit;
    },
    /** The counter write for a request about this kind of mail, counted whether or not one is sent. */
    countMail(kind: MailKind, now: number) {
      return bumpCounter(db, keys[kinds.indexOf(kind)]!, window, now);
    },
  };
}
