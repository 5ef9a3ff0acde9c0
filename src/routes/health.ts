import { Hono } from "hono";
import { sql } from "drizzle-orm";
import type { AppEnv } from "../http/context.ts";
import { AppError } from "../lib/errors.ts";
import { logEvent } from "../lib/log.ts";

export const healthRoutes = new Hono<AppEnv>().get("/health", async (c) => {
  try {
    await c.var.deps.db.run(sql`select 1`);
  } catch (err) {
    logEvent("db_unavailable", { requestId: c.var.requestId, error: err instanceof Error ? err.name : "unknown" });
    throw new AppError("db_unavailable");
  }
  return c.json({ status: "ok" });
});
