import { and, eq, gt, gte, notExists } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { rateLimits } from "../db/schema.ts";
import { bumpCounter, hashedKey } from "./counters.ts";
import { DAY_MS } from "./login-guard.ts";

/**
 * Wrong mailed codes per address in 24 h, over all its mails, before codes for that address stop
 * working until the window ends (its links still work). Each code also dies after 5 wrong tries,
 * but anyone who knows an address can have a new mail sent to it every minute: without this a
 * 6-digit code could be guessed at 25 tries an hour for as long as someone cared to. With it, a
 * year of trying has about a 0.4 % chance per live code.
 */
export const CODE_FAILURES_PER_DAY = 10;

/** The daily wrong-code budget of one address (known or not: the same statements either way). */
export async function codeGuard(db: Db, email: string) {
  const key = await hashedKey("code-day", email);
  return {
    /** A condition for the statement that looks a code up: this address may still try codes. */
    open(now: number) {
      return notExists(
        db
          .select({ key: rateLimits.key })
          .from(rateLimits)
          .where(and(eq(rateLimits.key, key), gt(rateLimits.windowEndsAt, now), gte(rateLimits.count, CODE_FAILURES_PER_DAY))),
      );
    },
    /** The write of one wrong code. */
    failed(now: number) {
      return bumpCounter(db, key, { limit: CODE_FAILURES_PER_DAY, windowMs: DAY_MS }, now);
    },
    /** The address's count gone (its account was deleted). */
    forget() {
      return db.delete(rateLimits).where(eq(rateLimits.key, key));
    },
  };
}
