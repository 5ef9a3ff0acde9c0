import { Hono } from "hono";
import { desc, eq, sql } from "drizzle-orm";
import { auditEvents } from "../db/schema.ts";
import { liveSession } from "../auth/sessions.ts";
import { invalidAccessToken, requireAuth } from "../http/auth.ts";
import type { AppEnv } from "../deps.ts";

export const RECENT_EVENTS_LIMIT = 50;

// GET /v1/me, GET /v1/me/events
export const meRoutes = new Hono<AppEnv>()
  .get("/", requireAuth, (c) => {
    const auth = c.var.auth;
    // Answered from the verified access token alone: no database read.
    // Only confirmed accounts get access tokens, hence email_confirmed.
    return c.json({
      user: { id: auth.sub, email: auth.email, roles: auth.roles, email_confirmed: true },
      // amr: how this session was opened (["pwd"], ["pwd", "otp"], ["pwd", "hwk"], ["hwk"]).
      session: { id: auth.sid, expires_at: new Date(auth.exp * 1000).toISOString(), amr: auth.amr },
    });
  })
  // The caller's own recent security events (logins, failures, password changes, ...), newest first.
  // Events recorded in one batch share a time, so insertion order (rowid) breaks ties.
  .get("/events", requireAuth, async (c) => {
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
