import { Hono } from "hono";
import { and, desc, eq, exists, gt, isNull, sql } from "drizzle-orm";
import { recordAuditIf } from "../auth/audit.ts";
import { sessionsRevoked } from "../auth/events.ts";
import { liveSession, revokeSession } from "../auth/sessions.ts";
import { sessions } from "../db/schema.ts";
import type { AppEnv } from "../deps.ts";
import { invalidAccessToken, requireAuth } from "../http/auth.ts";
import { commitWithEvents } from "../http/deliver-after-response.ts";
import { summarizeUserAgent, truncateIp } from "../lib/client-summary.ts";
import { AppError } from "../lib/errors.ts";

// The caller's own sessions, to see and to end one by one (log in, refresh and log out are in
// session.ts). Every statement names the caller's user id, so another user's session is simply not
// there: listing never shows it, and ending it answers 404 like an id that does not exist.

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

// GET /v1/sessions, DELETE /v1/sessions/:id
export const sessionsRoutes = new Hono<AppEnv>()
  .get("/", requireAuth, async (c) => {
    const { db, clock, config } = c.var.deps;
    const auth = c.var.auth;
    const now = clock.now();
    // One round trip: the caller's session must be live (an ended session's access token sees
    // nothing), and the user's live sessions, most recently used first.
    const [live, rows] = await db.batch([
      liveSession(db, auth.sid, auth.sub, now).limit(1),
      db
        .select()
        .from(sessions)
        .where(
          and(
            eq(sessions.userId, auth.sub),
            isNull(sessions.revokedAt),
            gt(sessions.expiresAt, now),
            gt(sessions.createdAt, now - config.sessionMaxAge * 1000),
          ),
        )
        .orderBy(desc(sql`coalesce(${sessions.lastUsedAt}, ${sessions.createdAt})`))
        .limit(100),
    ]);
    if (live.length === 0) throw invalidAccessToken();
    return c.json({
      sessions: rows.map((row) => ({
        id: row.id,
        created_at: iso(row.createdAt),
        last_used_at: iso(row.lastUsedAt ?? row.createdAt),
        user_agent: summarizeUserAgent(row.userAgent),
        ip: truncateIp(row.ip),
        current: row.id === auth.sid,
      })),
    });
  })
  .delete("/:id", requireAuth, async (c) => {
    const { db, clock } = c.var.deps;
    const auth = c.var.auth;
    const now = clock.now();
    const id = c.req.param("id");
    if (id.length > 64) throw new AppError("not_found", "No session of yours has that id.");
    // One round trip, every write conditioned on the caller's session being live (as logout). The
    // audit row comes first, while the session to end is still live (it may be the caller's own).
    const callerLive = exists(liveSession(db, auth.sid, auth.sub, now));
    const owned = and(eq(sessions.userId, auth.sub), callerLive);
    const revoked = sessionsRevoked(db, auth.sub, { sessionId: id }, "ended_by_owner", now, callerLive);
    const [live, , , ended] = await commitWithEvents(
      c,
      [
        liveSession(db, auth.sid, auth.sub, now).limit(1),
        recordAuditIf(db, "session_ended", auth.sub, c.var.client, now, exists(db.select({ id: sessions.id }).from(sessions).where(and(eq(sessions.id, id), isNull(sessions.revokedAt), owned)))),
        revoked.write,
        revokeSession(db, id, "ended_by_owner", now, owned).returning({ id: sessions.id }),
      ],
      [revoked],
    );
    if (live.length === 0) throw invalidAccessToken();
    if (ended.length === 0) throw new AppError("not_found", "No session of yours has that id.");
    return c.body(null, 204);
  });
