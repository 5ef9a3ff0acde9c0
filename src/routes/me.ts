import { Hono } from "hono";
import { asc, desc, eq, sql } from "drizzle-orm";
import * as z from "zod";
import { eraseAccount } from "../auth/erase-account.ts";
import { passwordField } from "../auth/identity.ts";
import { liveSession } from "../auth/sessions.ts";
import { auditEvents, sessions, users } from "../db/schema.ts";
import type { AppEnv } from "../deps.ts";
import { invalidAccessToken, requireAuth } from "../http/auth.ts";
import { commitWithEvents, deliverAfterResponse } from "../http/deliver-after-response.ts";
import { confirmPassword } from "../http/reauthenticate.ts";
import { validateJson } from "../http/validate.ts";

export const RECENT_EVENTS_LIMIT = 50;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

// GET /v1/me, GET /v1/me/events, GET /v1/me/export, DELETE /v1/me
export const DeleteAccountBody = z.object({ password: passwordField });

export const meRoutes = new Hono<AppEnv>()
  .get("/", requireAuth, (c) => {
    const auth = c.var.auth;
    // Answered from the verified access token alone: no database read (so it never counts as a use
    // of the session either). Only confirmed accounts get access tokens, hence email_confirmed.
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
  })
  // Everything held about the caller, in one round trip: the account, every session still on
  // record (ended ones too, until retention removes them), the whole audit trail. Full IPs and
  // user agents: it is the caller's own data.
  .get("/export", requireAuth, async (c) => {
    const { db, clock } = c.var.deps;
    const auth = c.var.auth;
    const now = clock.now();
    const [live, userRows, sessionRows, eventRows] = await db.batch([
      liveSession(db, auth.sid, auth.sub, now).limit(1),
      db.select().from(users).where(eq(users.id, auth.sub)).limit(1),
      db.select().from(sessions).where(eq(sessions.userId, auth.sub)).orderBy(asc(sessions.createdAt)),
      db.select().from(auditEvents).where(eq(auditEvents.userId, auth.sub)).orderBy(asc(auditEvents.createdAt), asc(sql`rowid`)),
    ]);
    const user = userRows[0];
    if (live.length === 0 || !user) throw invalidAccessToken();
    c.header("Content-Disposition", 'attachment; filename="account-export.json"');
    return c.json({
      exported_at: iso(now),
      account: {
        id: user.id,
        email: user.email,
        name: user.name,
        locale: user.locale,
        roles: user.roles,
        email_confirmed_at: iso(user.emailConfirmedAt),
        created_at: iso(user.createdAt),
        updated_at: iso(user.updatedAt),
      },
      sessions: sessionRows.map((row) => ({
        id: row.id,
        created_at: iso(row.createdAt),
        last_used_at: iso(row.lastUsedAt),
        expires_at: iso(row.expiresAt),
        ended_at: iso(row.revokedAt),
        ended_because: row.revokedReason,
        ip: row.ip,
        user_agent: row.userAgent,
        current: row.id === auth.sid,
      })),
      audit_events: eventRows.map((row) => ({ type: row.type, time: iso(row.createdAt), ip: row.ip, user_agent: row.userAgent })),
    });
  })
  // Deleting the account takes the password again (a stolen access token alone cannot), guarded
  // like login; then one batch erases it (src/auth/erase-account.ts) and the address is told.
  .delete("/", requireAuth, validateJson(DeleteAccountBody), async (c) => {
    const deps = c.var.deps;
    const { user, guard, now } = await confirmPassword(c, c.req.valid("json").password, []);
    const erase = await eraseAccount(deps, user, { by: "owner" }, now);
    await commitWithEvents(c, [...guard.clearAll(), ...erase.writes], erase.events);
    deliverAfterResponse(c, [erase.mail]);
    return c.body(null, 204);
  });
