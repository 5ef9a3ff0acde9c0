import { and, desc, eq, gt } from "drizzle-orm";
import { registrations, users } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { mailBudget, type MailKind } from "../limits/mail-budget.ts";

// One round trip: the account (if any), the address's live pending registrations (newest first)
// and its mail budgets. The caller then writes one batch, on every path, so known and unknown
// addresses cost the same.
export async function lookupAccount(deps: Deps, email: string, kinds: MailKind[], now: number) {
  const { db, config } = deps;
  const budget = await mailBudget(db, email, kinds, config.mailPerAddressPerHour);
  const [userRows, pending, ...counters] = await db.batch([
    db.select().from(users).where(eq(users.email, email)).limit(1),
    db
      .select()
      .from(registrations)
      .where(and(eq(registrations.email, email), gt(registrations.expiresAt, now)))
      .orderBy(desc(registrations.createdAt)),
    ...budget.reads,
  ]);
  const mail = budget.evaluate(counters);
  return {
    user: userRows[0],
    pending,
    /** Whether one more mail of this kind may go to the mailbox now. */
    mailAllowed: (kind: MailKind) => mail.allowed(kind, now),
    /** The counter writes for a request about this kind of mail, counted whether or not one is sent. */
    countMail: (kind: MailKind) => mail.count(kind, now),
  };
}
