import { and, isNull, like, lt, notLike, or } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { rateLimits } from "../db/schema.ts";
import { DAY_MS } from "./login-guard.ts";

// Cron housekeeping. Window counters (per IP, mail budgets, daily login failures) whose window
// ended are dead rows. Fast-tier login rows count consecutive failures, not a window: they are
// forgotten a day after their last failure (unknown addresses' too), never while locked.
export function pruneExpiredCounters(db: Db, now: number) {
  return db.batch([
    db.delete(rateLimits).where(and(notLike(rateLimits.key, "login:%"), lt(rateLimits.windowEndsAt, now))),
    db
      .delete(rateLimits)
      .where(
        and(
          like(rateLimits.key, "login:%"),
          lt(rateLimits.windowEndsAt, now),
          or(isNull(rateLimits.updatedAt), lt(rateLimits.updatedAt, now - DAY_MS)),
        ),
      ),
  ]);
}
