import { Hono } from "hono";
import { sql } from "drizzle-orm";
import type { AppEnv } from "../deps.ts";
import { AppError } from "../lib/errors.ts";
import { logEvent } from "../lib/log.ts";

/** How long a good database probe is trusted. */
const HEALTH_CACHE_MS = 5_000;

// Load balancers and uptime checks probe often, and each probe would be a round trip to Turso, so a
// good answer is reused for a few seconds. The time of that answer lives in this closure, one per
// createApp (so per isolate), not at module level: it is the isolate's view of its database and
// holds nothing about any request. Failures are not remembered: during an outage every probe asks
// again, so recovery shows at once.
export function healthRoutes() {
  let healthyAt: number | null = null;
  return new Hono<AppEnv>().get("/", async (c) => {
    const { db, clock } = c.var.deps;
    const now = clock.now();
    // `now >= healthyAt`: a clock that steps back must not stretch the window.
    if (healthyAt !== null && now >= healthyAt && now < healthyAt + HEALTH_CACHE_MS) return c.json({ status: "ok" });
    try {
      await db.run(sql`select 1`);
    } catch (err) {
      logEvent("db_unavailable", { requestId: c.var.requestId, error: err instanceof Error ? err.name : "unknown" });
      throw new AppError("db_unavailable");
    }
    healthyAt = now;
    return c.json({ status: "ok" });
  });
}
