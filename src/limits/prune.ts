import { and, isNull, like, lt, notLike, or } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { deleteInChunks } from "../db/chunked-delete.ts";
import { rateLimits } from "../db/schema.ts";
import type { CronBudget } from "../lib/cron-budget.ts";
import { DAY_MS } from "./login-guard.ts";

// Cron housekeeping. Window counters (per IP, mail budgets, daily login failures) whose window
// ended are dead rows. Fast-tier login rows count consecutive failures, not a window: they are
// forgotten a day after their last failure (unknown addresses' too), never while locked.
export async function pruneExpiredCounters(db: Db, now: number, budget: CronBudget): Promise<void> {
  await deleteInChunks(db, rateLimits, and(lt(rateLimits.windowEndsAt, now), notLike(rateLimits.key, "login:%")), budget);
  await deleteInChunks(
    db,
    rateLimits,
    and(lt(rateLimits.windowEndsAt, now), like(rateLimits.key, "login:%"), or(isNull(rateLimits.updatedAt), lt(rateLimits.updatedAt, now - DAY_MS))),
    budget,
  );
}
