import { Hono } from "hono";
import { eq } from "drizzle-orm";
import * as z from "zod";
import { recordAudit } from "../auth/audit.ts";
import { emailField, passwordField, toUserJson } from "../auth/identity.ts";
import { clearLoginFailures, loginAttemptStatements, lockoutPolicy, loginCounterKey, refuseIfLocked } from "../auth/rate-limit.ts";
import { openSession, revokeSession, revokeUserSessions, rotateRefreshToken } from "../auth/sessions.ts";
import { users } from "../db/schema.ts";
import { requireAuth } from "../http/auth.ts";
import type { AppEnv } from "../http/context.ts";
import { validateJson } from "../http/validate.ts";
import { hashToken, isWellFormedToken } from "../lib/crypto/tokens.ts";
import { AppError } from "../lib/errors.ts";

const invalidRefresh = () => new AppError("invalid_token", "The refresh token is invalid or has expired.", { status: 401 });

export const sessionRoutes = new Hono<AppEnv>()
  .post("/v1/login", validateJson(z.object({ email: emailField, password: passwordField })), async (c) => {
    const deps = c.var.deps;
    const { db, clock, passwords, config } = deps;
    const { email, password } = c.req.valid("json");
    const client = c.var.client;
    const now = clock.now();
    const counterKey = await loginCounterKey(email);
    // One round trip: the address's lock-out state, this attempt counted as a failure up front (a
    // success clears it), and the account. While locked even the right password is refused and no
    // password is checked: known and unknown addresses answer alike.
    const [previous, reserved, userRows] = await db.batch([
      ...loginAttemptStatements(db, counterKey, lockoutPolicy(config), now),
      db.select().from(users).where(eq(users.email, email)).limit(1),
    ]);
    const { lockStarted } = refuseIfLocked(previous, reserved, now);
    const user = userRows[0];

    // An unknown address still costs one full derivation, and both failures write the same audit
    // rows, so neither timing nor answer reveals which addresses have accounts.
    const verdict = user ? await passwords.verify(password, user.passwordHash) : (await passwords.burn(password), null);
    if (!user || !verdict?.ok) {
      await db.batch([
        recordAudit(db, "login_failed", user?.id ?? null, client, now),
        ...(lockStarted ? [recordAudit(db, "rate_limited", user?.id ?? null, client, now)] : []),
      ]);
      throw new AppError("invalid_credentials");
    }
    // Checked only after the password, so these answers tell nothing to someone without it. The
    // password was right, so the failure counted up front is taken back.
    if (user.disabledAt !== null || user.emailConfirmedAt === null) {
      await db.batch([clearLoginFailures(db, counterKey)]);
      throw new AppError(user.disabledAt !== null ? "account_disabled" : "email_not_confirmed");
    }

    const session = await openSession(deps, user, client, now);
    const rehash = verdict.needsRehash
      ? [db.update(users).set({ passwordHash: await passwords.hash(password), updatedAt: now }).where(eq(users.id, user.id))]
      : [];
    await db.batch([
      ...session.writes,
      ...rehash,
      clearLoginFailures(db, counterKey),
      recordAudit(db, "login_succeeded", user.id, client, now),
    ]);
    return c.json({ user: toUserJson(user), session: session.body });
  })
  .post("/v1/token/refresh", validateJson(z.object({ refresh_token: z.string().max(4096) })), async (c) => {
    const deps = c.var.deps;
    const { db, clock } = deps;
    const token = c.req.valid("json").refresh_token;
    if (!isWellFormedToken(token)) throw invalidRefresh();
    const now = clock.now();
    const tokenHash = await hashToken(token);

    const rotation = await rotateRefreshToken(deps, tokenHash, now);
    const [consumed, , , found] = await db.batch(rotation.statements);
    const row = found[0];
    if (!row) throw invalidRefresh();
    if (consumed.length === 0) {
      // A rotated token came back: someone holds a copy. End the whole session.
      if (row.token.usedAt !== null && row.session.revokedAt === null) {
        await db.batch([
          revokeSession(db, row.session.id, "refresh_reuse", now),
          recordAudit(db, "refresh_reuse_detected", row.user.id, c.var.client, now),
        ]);
      }
      throw invalidRefresh();
    }
    return c.json({ session: await rotation.answer(row.user, row.session.id) });
  })
  .post("/v1/logout", requireAuth, validateJson(z.object({ all: z.boolean().optional() })), async (c) => {
    const { db, clock } = c.var.deps;
    const auth = c.var.auth;
    const now = clock.now();
    const all = c.req.valid("json").all === true;
    await db.batch([
      all ? revokeUserSessions(db, auth.sub, "logout_all", now) : revokeSession(db, auth.sid, "logout", now),
      recordAudit(db, "logged_out", auth.sub, c.var.client, now),
    ]);
    return c.body(null, 204);
  })
  .get("/v1/me", requireAuth, (c) => {
    const auth = c.var.auth;
    // Answered from the verified access token alone: no database read.
    // Only confirmed accounts get access tokens, hence email_confirmed.
    return c.json({
      user: { id: auth.sub, email: auth.email, roles: auth.roles, email_confirmed: true },
      session: { id: auth.sid, expires_at: new Date(auth.exp * 1000).toISOString() },
    });
  })
  .get("/.well-known/jwks.json", (c) => {
    c.header("Cache-Control", "public, max-age=300");
    return c.json(c.var.deps.jwt.jwks());
  });
