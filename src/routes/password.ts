import { Hono, type Context } from "hono";
import { and, eq, isNull } from "drizzle-orm";
import * as z from "zod";
import { recordAudit } from "../auth/audit.ts";
import { consumeUserCredential, refuseCredential, unspendToken } from "../auth/email-tokens.ts";
import { credentialFields, credentialOf, emailField, passwordField, recipientOf, type UserRow } from "../auth/identity.ts";
import { lookupAccount } from "../auth/lookup.ts";
import { checkPasswordPolicy, passwordPolicy } from "../auth/password-policy.ts";
import { checkNewPassword } from "../auth/new-password.ts";
import { openSession, revokeUserSessions, type Amr } from "../auth/sessions.ts";
import { prepareResetLink } from "../auth/link-mails.ts";
import { passwordAttemptGuard } from "../limits/login-guard.ts";
import { emailTokens, users } from "../db/schema.ts";
import { requireAuth } from "../http/auth.ts";
import type { AppEnv } from "../deps.ts";
import { confirmPassword } from "../http/reauthenticate.ts";
import { validateJson } from "../http/validate.ts";
import { AppError } from "../lib/errors.ts";
import { queueMail } from "../mail/outbox.ts";
import { commitWithEvents, deliverAfterResponse } from "../http/deliver-after-response.ts";
import { passwordChanged, passwordReset, sessionCreated, sessionsRevoked, userConfirmed } from "../auth/events.ts";

const FORGOT_ACCEPTED = { message: "If the address has an account, an email with instructions is on its way." };
const RESET_DONE = { message: "Your password has been changed. Log in with the new password." };

// The writes every password change shares: new hash, every session ended (refresh tokens die with
// their session), outstanding reset links void, the owner told by mail.
async function changePasswordWrites(c: Context<AppEnv>, user: UserRow, passwordHash: string, now: number) {
  const deps = c.var.deps;
  const { db, config } = deps;
  const { ip, userAgent } = c.var.client;
  const mail = await queueMail(
    deps,
    {
      ...recipientOf(user),
      template: "password-changed",
      data: {
        appName: config.appName,
        name: user.name,
        when: new Date(now).toISOString(),
        ip,
        userAgent,
        resetUrl: config.forgotPasswordUrl,
      },
    },
    now,
  );
  const writes = [
    // A reset proves the mailbox too: an invited account (src/routes/admin-users.ts) is confirmed by it.
    db.update(users).set({ passwordHash, emailConfirmedAt: user.emailConfirmedAt ?? now, updatedAt: now }).where(eq(users.id, user.id)),
    revokeUserSessions(db, user.id, "password_changed", now),
    db
      .update(emailTokens)
      .set({ usedAt: now })
      .where(and(eq(emailTokens.userId, user.id), eq(emailTokens.purpose, "reset_password"), isNull(emailTokens.usedAt))),
    mail.write,
  ] as const;
  return { writes, mail: mail.row };
}

// POST /v1/password/forgot, /v1/password/reset, /v1/password/change
export const ForgotBody = z.object({ email: emailField });
export const ResetBody = z.object({ ...credentialFields, password: passwordField });
export const ChangeBody = z.object({ current_password: passwordField, new_password: passwordField });

export const passwordRoutes = new Hono<AppEnv>()
  .post("/forgot", validateJson(ForgotBody), async (c) => {
    const deps = c.var.deps;
    const { db, clock } = deps;
    const now = clock.now();
    const account = await lookupAccount(deps, c.req.valid("json").email, ["reset"], now);
    const user = account.user;
    const count = account.countMail("reset");
    // Unknown, disabled and over-budget addresses write the counter alone: same answer, one batch.
    // An address with only pending registrations has no password to reset: registering again is
    // how its owner starts over.
    if (!user || user.disabledAt !== null || !account.mailAllowed("reset")) {
      await db.batch([...count]);
      return c.json(FORGOT_ACCEPTED, 202);
    }
    const reset = await prepareResetLink(deps, user, now);
    await db.batch([...reset.writes, ...count, recordAudit(db, "reset_requested", user.id, c.var.client, now)]);
    deliverAfterResponse(c, [reset.mail]);
    return c.json(FORGOT_ACCEPTED, 202);
  })
  .post("/reset", validateJson(ResetBody), async (c) => {
    const deps = c.var.deps;
    const { db, clock, passwords } = deps;
    const body = c.req.valid("json");
    const credential = credentialOf(body);
    const password = body.password;
    // Checks that need no account run before the token is touched, so a weak choice costs nothing.
    await checkNewPassword(deps, password, { requestId: c.var.requestId });
    const now = clock.now();
    // Consumed before the password changes: of two concurrent requests with one link (or its code),
    // one wins.
    const consumed = await consumeUserCredential(deps, credential, "reset_password", now);
    if (!consumed) throw await refuseCredential(deps, c.var.client, credential, "reset_password", now);
    const user = consumed.user;
    try {
      checkPasswordPolicy(password, passwordPolicy(deps.config, user.email));
    } catch (err) {
      // Refused for this account (e.g. it contains the address): give the link back.
      await db.batch([unspendToken(db, consumed.token.id, now)]);
      throw err;
    }
    if (user.disabledAt !== null) throw new AppError("account_disabled");
    const change = await changePasswordWrites(c, user, await passwords.hash(password), now);
    // Whoever was guessing, the owner has just proved the mailbox: every lock-out of the address ends.
    const guard = await passwordAttemptGuard(db, deps.config, user.email, c.var.client.ip);
    const reset = passwordReset(db, user.id, now);
    const revoked = sessionsRevoked(db, user.id, "all", "password_reset", now);
    // Accepting an invitation (src/routes/admin-users.ts) is a reset that also confirms the address.
    const confirmed = user.emailConfirmedAt === null ? userConfirmed(db, user.id, now) : null;
    await commitWithEvents(
      c,
      [
        reset.write,
        revoked.write,
        ...change.writes,
        ...(confirmed ? [confirmed.write] : []),
        ...guard.clearAll(),
        recordAudit(db, "reset_completed", user.id, c.var.client, now),
      ],
      confirmed ? [reset, revoked, confirmed] : [reset, revoked],
    );
    deliverAfterResponse(c, [change.mail]);
    // No automatic login (OWASP): the client logs in with the new password.
    return c.json(RESET_DONE);
  })
  .post(
    "/change",
    requireAuth,
    validateJson(ChangeBody),
    async (c) => {
      const deps = c.var.deps;
      const { db, passwords } = deps;
      const auth = c.var.auth;
      const body = c.req.valid("json");
      // Every check of the new password runs before any database work, against the address in the
      // access token (after an email change it may be the previous one until the next refresh: the
      // policy is checked again below against the account's address).
      await checkNewPassword(deps, body.new_password, { email: auth.email, requestId: c.var.requestId });
      const { user, guard, now } = await confirmPassword(c, body.current_password, [], "The current password is incorrect.");
      if (user.email !== auth.email) {
        try {
          checkPasswordPolicy(body.new_password, passwordPolicy(deps.config, user.email));
        } catch (err) {
          await db.batch([guard.succeeded()]);
          throw err;
        }
      }
      const change = await changePasswordWrites(c, user, await passwords.hash(body.new_password), now);
      // Every session ends (the batch revokes them first), then the caller gets a fresh one.
      // The new session was proven the way the caller's was.
      const session = await openSession(deps, user, c.var.client, now, auth.amr as Amr);
      // In the order they happen: the change, every session ended (the caller's too), the new one.
      const changed = passwordChanged(db, user.id, now);
      const revoked = sessionsRevoked(db, user.id, "all", "password_changed", now);
      const created = sessionCreated(db, user.id, session, "password_change", now);
      await commitWithEvents(
        c,
        [
          changed.write,
          revoked.write,
          ...change.writes,
          ...session.writes,
          created.write,
          guard.succeeded(),
          recordAudit(db, "password_changed", user.id, c.var.client, now),
        ],
        [changed, revoked, created],
      );
      deliverAfterResponse(c, [change.mail]);
      return c.json({ session: session.body });
    },
  );
