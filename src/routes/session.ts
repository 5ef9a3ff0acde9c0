import { Hono } from "hono";
import { and, desc, eq, exists, gt, inArray, isNull, lt } from "drizzle-orm";
import * as z from "zod";
import { recordAudit, recordAuditIf } from "../auth/audit.ts";
import { countWrongAttempt, MAX_TOKEN_ATTEMPTS, spendToken } from "../auth/email-tokens.ts";
import { emailField, passwordField, toUserJson } from "../auth/identity.ts";
import { hashUnlockCode, prepareUnlockCode } from "../auth/link-mails.ts";
import { readFactors, toFactors } from "../auth/factors.ts";
import { secondStep } from "../auth/second-step.ts";
import { liveSession, openSession, PASSWORD_ONLY, REFRESH_RETRY_GRACE_SECONDS, revokeSession, revokeUserSessions, rotateRefreshToken } from "../auth/sessions.ts";
import { emailTokens, registrations, users } from "../db/schema.ts";
import { invalidAccessToken, requireAuth } from "../http/auth.ts";
import type { AppEnv } from "../deps.ts";
import { validateJson } from "../http/validate.ts";
import { passwordAttemptGuard } from "../limits/login-guard.ts";
import { mailBudget } from "../limits/mail-budget.ts";
import { timingSafeEqual } from "../lib/crypto/encoding.ts";
import { isWellFormedToken } from "../lib/crypto/tokens.ts";
import { AppError } from "../lib/errors.ts";
import { commitWithEvents, deliverAfterResponse } from "../http/deliver-after-response.ts";
import { sessionCreated, sessionsRevoked } from "../auth/events.ts";

const invalidRefresh = () => new AppError("invalid_refresh_token");
const unlockCodeField = z.string().regex(/^[0-9]{6}$/, "must be the 6 digits from the email");
export const LoginBody = z.object({ email: emailField, password: passwordField, unlock_code: unlockCodeField.optional() });
export const RefreshBody = z.object({ refresh_token: z.string().max(4096) });
export const LogoutBody = z.object({ all: z.boolean().optional() });

// POST /v1/login
export const loginRoutes = new Hono<AppEnv>()
  .post(
    "/",
    validateJson(LoginBody),
    async (c) => {
      const deps = c.var.deps;
      const { db, clock, passwords, config } = deps;
      const { email, password, unlock_code: unlockCode } = c.req.valid("json");
      const client = c.var.client;
      const now = clock.now();
      const guard = await passwordAttemptGuard(db, config, email, client.ip);
      // One round trip: this client's lock-out state, this attempt counted as a failure up front (a
      // success clears it), the address's failures today, the account, its newest pending
      // registration and its live unlock code. While locked even the right password is refused and
      // no password is checked: known and unknown addresses answer alike.
      const accountId = db.select({ id: users.id }).from(users).where(eq(users.email, email));
      const [previous, reserved, today, userRows, pendingRows, unlockRows, ...factorRows] = await db.batch([
        ...guard.statements(now),
        db.select().from(users).where(eq(users.email, email)).limit(1),
        db
          .select({ passwordHash: registrations.passwordHash })
          .from(registrations)
          .where(and(eq(registrations.email, email), gt(registrations.expiresAt, now))),
        db
          .select()
          .from(emailTokens)
          .where(
            and(
              inArray(emailTokens.userId, db.select({ id: users.id }).from(users).where(eq(users.email, email))),
              eq(emailTokens.purpose, "unlock_login"),
              isNull(emailTokens.usedAt),
              gt(emailTokens.expiresAt, now),
              lt(emailTokens.failedAttempts, MAX_TOKEN_ATTEMPTS),
            ),
          )
          .orderBy(desc(emailTokens.createdAt))
          .limit(1),
        // Its second factors, if any: whether the password alone finishes this login.
        ...readFactors(db, accountId),
      ]);
      const { lockStarted, unlockRequired } = guard.check([previous, reserved, today], now);
      const user = userRows[0];

      // An unknown address still costs one full derivation (against its pending registrations, if
      // any, which share one salt), and every failure writes the same rows, so neither timing nor
      // answer reveals which addresses have accounts.
      const verdict = user
        ? { ...(await passwords.verify(password, user.passwordHash)), pendingMatch: false }
        : { ok: false, needsRehash: false, pendingMatch: (await passwords.matchAny(password, pendingRows.map((r) => r.passwordHash))) >= 0 };
      if (!user || !verdict.ok) {
        if (verdict.pendingMatch) {
          // The password of a registration still waiting for its link: say so, as for any account
          // whose address is not confirmed yet.
          await db.batch([guard.succeeded()]);
          throw new AppError("email_not_confirmed");
        }
        await db.batch([
          ...guard.failed(now),
          recordAudit(db, "login_failed", user?.id ?? null, client, now),
          ...(lockStarted ? [recordAudit(db, "rate_limited", user?.id ?? null, client, now)] : []),
        ]);
        throw new AppError("invalid_credentials");
      }
      // Checked only after the password, so these answers tell nothing to someone without it. The
      // password was right, so the failure counted up front is taken back.
      if (user.disabledAt !== null || user.emailConfirmedAt === null) {
        await db.batch([guard.succeeded()]);
        throw new AppError(user.disabledAt !== null ? "account_disabled" : "email_not_confirmed");
      }

      // Past the day's failures the right password alone is not enough: it may have been guessed.
      // The owner proves the mailbox with a code mailed now.
      let unlocked = false;
      if (unlockRequired) {
        const live = unlockRows[0];
        if (unlockCode !== undefined && live && timingSafeEqual(await hashUnlockCode(deps, live.id, unlockCode), live.tokenHash)) {
          unlocked = true;
          // Spent in the success batch below.
        } else if (unlockCode !== undefined && live) {
          await db.batch([countWrongAttempt(db, live.id, now), recordAudit(db, "unlock_required", user.id, client, now)]);
          throw new AppError("unlock_required", "That unlock code is not right. Check the newest email from us, or wait for it to expire and log in again for a new one.");
        } else {
          const budget = await mailBudget(db, user.email, ["unlock"], config.mailPerAddressPerHour);
          const counts = await db.batch([...budget.reads] as [typeof budget.reads[0], ...typeof budget.reads]);
          const mail = budget.evaluate(counts);
          const send = mail.allowed("unlock", now) ? await prepareUnlockCode(deps, user, now) : null;
          await db.batch([guard.succeeded(), ...mail.count("unlock", now), ...(send?.writes ?? []), recordAudit(db, "unlock_required", user.id, client, now)]);
          if (send) deliverAfterResponse(c, [send.mail]);
          throw new AppError("unlock_required");
        }
      }

      const rehash = verdict.needsRehash
        ? [db.update(users).set({ passwordHash: await passwords.hash(password), updatedAt: now }).where(eq(users.id, user.id))]
        : [];
      const unlock = unlocked ? [spendToken(db, unlockRows[0]!.id, now), ...guard.clearAll(), recordAudit(db, "unlocked", user.id, client, now)] : [];
      // A user with a second factor (or, under MFA_REQUIRED, without one) gets no session yet. Only
      // this attempt's reserved failure is taken back: a right password never wipes the count of
      // wrong codes, which only a finished login resets.
      const next = await secondStep(deps, user, toFactors(factorRows), client, now);
      if (next) {
        await db.batch([...next.writes, ...rehash, ...(unlocked ? unlock : [guard.released([previous, reserved])])]);
        return c.json(next.body);
      }
      const session = await openSession(deps, user, client, now, PASSWORD_ONLY);
      const created = sessionCreated(db, user.id, session, "login", now);
      await commitWithEvents(
        c,
        [...session.writes, ...rehash, ...(unlocked ? unlock : [guard.succeeded()]), recordAudit(db, "login_succeeded", user.id, client, now), created.write],
        [created],
      );
      return c.json({ user: toUserJson(user), session: session.body });
    },
  );

// POST /v1/token/refresh
export const tokenRoutes = new Hono<AppEnv>()
  .post("/refresh", validateJson(RefreshBody), async (c) => {
    const deps = c.var.deps;
    const { db, clock } = deps;
    const token = c.req.valid("json").refresh_token;
    if (!isWellFormedToken(token)) throw invalidRefresh();
    const now = clock.now();
    const rotation = await rotateRefreshToken(deps, token, now);
    const [consumed, , , found, successors] = await db.batch(rotation.statements);
    const row = found[0];
    if (!row) throw invalidRefresh();
    if (consumed.length === 0) {
      // Rotated moments ago and its successor not used yet: the same successor again (a retry after
      // a lost response, or another tab), never a second one.
      const successor = successors[0];
      const live = row.session.revokedAt === null && row.user.disabledAt === null;
      if (live && row.token.usedAt !== null && now - row.token.usedAt <= REFRESH_RETRY_GRACE_SECONDS * 1000 && successor?.usedAt === null && successor.expiresAt > now) {
        return c.json({ session: await rotation.answer(row.user, row.session) });
      }
      // A rotated token came back: someone holds a copy. End the whole session.
      if (row.token.usedAt !== null && row.session.revokedAt === null) {
        const revoked = sessionsRevoked(db, row.user.id, { sessionId: row.session.id }, "refresh_reuse", now);
        await commitWithEvents(
          c,
          [revoked.write, revokeSession(db, row.session.id, "refresh_reuse", now), recordAudit(db, "refresh_reuse_detected", row.user.id, c.var.client, now)],
          [revoked],
        );
      }
      throw invalidRefresh();
    }
    return c.json({ session: await rotation.answer(row.user, row.session) });
  });

// POST /v1/logout
export const logoutRoutes = new Hono<AppEnv>()
  .post("/", requireAuth, validateJson(LogoutBody), async (c) => {
    const { db, clock } = c.var.deps;
    const auth = c.var.auth;
    const now = clock.now();
    const all = c.req.valid("json").all === true;
    // One round trip. Every write is conditioned on the caller's session still being live, so the
    // unexpired access token of an ended session (e.g. after a password reset) cannot end the
    // owner's new sessions; the first statement tells which case this was.
    const live = liveSession(db, auth.sid, auth.sub, now);
    const onlyIfLive = exists(liveSession(db, auth.sid, auth.sub, now));
    const revoked = sessionsRevoked(db, auth.sub, all ? "all" : { sessionId: auth.sid }, all ? "logout_all" : "logout", now, onlyIfLive);
    const [liveRows] = await commitWithEvents(
      c,
      [
        live,
        recordAuditIf(db, "logged_out", auth.sub, c.var.client, now, onlyIfLive),
        revoked.write,
        all
          ? revokeUserSessions(db, auth.sub, "logout_all", now, onlyIfLive)
          : revokeSession(db, auth.sid, "logout", now, onlyIfLive),
      ],
      [revoked],
    );
    if (liveRows.length === 0) throw invalidAccessToken();
    return c.body(null, 204);
  });
