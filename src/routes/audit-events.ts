import { Hono } from "hono";
import { desc, eq, sql } from "drizzle-orm";
import { auditEvents } from "../db/schema.ts";
import { requireAuth } from "../http/auth.ts";
import type { AppEnv } from "../http/context.ts";

export const RECENT_EVENTS_LIMIT = 50;

// The caller's own recent security events (logins, failures, password changes, ...), newest first:
// one read. Events recorded in one batch share a time, so insertion order (rowid) breaks ties.
export const auditEventRoutes = new Hono<AppEnv>().get("/v1/me/events", requireAuth, async (c) => {
  const { db } = c.var.deps;
  const rows = await db
    .select()
    .from(auditEvents)
    .where(eq(auditEvents.userId, c.var.auth.sub))
    .orderBy(desc(auditEvents.createdAt), desc(sql`rowid`))
    .limit(RECENT_EVENTS_LIMIT);
  return c.json({
    events: rows.map((row) => ({
      type: row.type,
      time: new Date(row.createdAt).toISOString(),
      ip: row.ip,
      user_agent: row.userAgent,
    })),
  });
});
