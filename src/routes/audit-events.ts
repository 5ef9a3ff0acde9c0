import { Hono } from "hono";
import { desc, eq, sql } from "drizzle-orm";
import { auditEvents } from "../db/schema.ts";
import { liveSession } from "../auth/sessions.ts";
import { invalidAccessToken, requireAuth } from "../http/auth.ts";
import type { AppEnv } from "../deps.ts";

export const RECENT_EVENTS_LIMIT = 50;

// The caller's own recent security events (logins, failures, password changes, ...), newest first:
// one read. Events recorded in one batch share a time, so insertion order (rowid) breaks ties.
export const auditEventRoutes = new Hono<AppEnv>().get("/v1/me/events", requireAuth, async (c) => {
  const { db, clock } = c.var.deps;
  const auth = c.var.auth;
  // The session is read in the same round trip: an ended session's access token gets nothing.
  const [live, rows] = await db.batch([
    liveSession(db, auth.sid, auth.sub, clock.now()).limit(1),
    db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.userId, auth.sub))
      .orderBy(desc(auditEvents.createdAt), desc(sql`rowid`))
      .limit(RECENT_EVENTS_LIMIT),
  ]);
  if (live.length === 0) throw invalidAccessToken();
  return c.json({
    events: rows.map((row) => ({
      type: row.type,
      time: new Date(row.createdAt).toISOString(),
      ip: row.ip,
      user_agent: row.userAgent,
    })),
  });
});
