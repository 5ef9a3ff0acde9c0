import type { Context } from "hono";
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import { and, eq, inArray, isNull, type SQLWrapper } from "drizzle-orm";
import { recordAudit } from "../auth/audit.ts";
import { hasSecondFactor, readFactors, toFactors, type Factors } from "../auth/factors.ts";
import type { UserRow } from "../auth/identity.ts";
import { liveMfaToken, type MfaTokenRow } from "../auth/mfa-tokens.ts";
import { liveSession } from "../auth/sessions.ts";
import { totpFactors, users } from "../db/schema.ts";
import type { AppEnv } from "../deps.ts";
import { passwordAttemptGuard, type PasswordAttemptGuard } from "../limits/login-guard.ts";
import { AppError } from "../lib/errors.ts";
import type { Db } from "../db/client.ts";
import { invalidAccessToken, optionalBearer } from "./auth.ts";

// Who may change second factors, proven afresh: a live session *and* the password (so a stolen
// access token alone cannot add or remove a factor), or, under MFA_REQUIRED, the enrolment
// mfa_token that a login with the right password handed out minutes ago.

export interface Account {
  user: UserRow;
  factors: Factors;
  /** The authenticator app set up but not activated yet, if any. */
  pendingTotp: typeof totpFactors.$inferSelect | undefined;
  /** Present when the password was checked: the caller writes guard.succeeded() with its change. */
  guard: PasswordAttemptGuard | null;
  /** Present on the enrolment path: the token that finishing the enrolment spends. */
  enrollToken: MfaTokenRow | null;
}

/** What every factor change reads besides the user: the pending authenticator app, the factors. */
function factorReads(db: Db, owner: string | SQLWrapper) {
  const pendingOwner = typeof owner === "string" ? eq(totpFactors.userId, owner) : inArray(totpFactors.userId, owner as never);
  return [db.select().from(totpFactors).where(and(pendingOwner, isNull(totpFactors.activatedAt))).limit(1), ...readFactors(db, owner)] as const;
}

/** The reads every factor change needs: the user, the pending authenticator app, the factors. */
function accountReads(db: Db, owner: string | SQLWrapper) {
  const byOwner = typeof owner === "string" ? eq(users.id, owner) : inArray(users.id, owner as never);
  return [db.select().from(users).where(byOwner).limit(1), ...factorReads(db, owner)] as const;
}

type GuardRows = Parameters<PasswordAttemptGuard["check"]>[0];

/** What a password confirmation hands back: the caller commits guard.succeeded() (or clearAll()) with its change. */
export interface ConfirmedPassword<R extends readonly BatchItem<"sqlite">[]> {
  user: UserRow;
  guard: PasswordAttemptGuard;
  now: number;
  /** The results of the caller's own reads, in their order. */
  results: BatchResponse<R>;
}

/**
 * A live session plus the password, in one round trip with the caller's own `reads`: this client's
 * password guard (while locked nothing is checked, 429), the user, the session. A stolen access
 * token alone gets no further, and a wrong password counts like a failed login, so this is not a way
 * around login's guard. Every route that asks for the password again comes through here.
 */
export async function confirmPassword<const R extends readonly BatchItem<"sqlite">[]>(
  c: Context<AppEnv>,
  password: string,
  reads: R,
  wrongPassword = "The password is incorrect.",
): Promise<ConfirmedPassword<R>> {
  const { db, clock, passwords, config } = c.var.deps;
  const { auth, client } = c.var;
  const now = clock.now();
  const guard = await passwordAttemptGuard(db, config, auth.email, client.ip);
  const [previous, reserved, today, live, userRows, ...results] = (await db.batch([
    ...guard.statements(now),
    liveSession(db, auth.sid, auth.sub, now).limit(1),
    db.select().from(users).where(eq(users.id, auth.sub)).limit(1),
    ...reads,
  ] as never)) as unknown as [...GuardRows, unknown[], UserRow[], ...BatchResponse<R>];
  guard.check([previous, reserved, today], now);
  const user = userRows[0];
  // A logged-out session's access token may still be unexpired; it changes nothing.
  if (!user || live.length === 0) throw invalidAccessToken();
  if (!(await passwords.verify(password, user.passwordHash)).ok) {
    await db.batch([...guard.failed(now), recordAudit(db, "login_failed", user.id, client, now)]);
    throw new AppError("invalid_credentials", wrongPassword);
  }
  return { user, guard, now, results: results as unknown as BatchResponse<R> };
}

/** confirmPassword, reading the account's second factors in the same round trip. */
export async function reauthenticate(c: Context<AppEnv>, password: string): Promise<Account> {
  const { user, guard, results } = await confirmPassword(c, password, factorReads(c.var.deps.db, c.var.auth.sub));
  const [pending, ...factorRows] = results;
  return { user, factors: toFactors(factorRows), pendingTotp: pending[0], guard, enrollToken: null };
}

/** The caller's own account behind a live session, without the password (listing, activation). */
export async function ownAccount(c: Context<AppEnv>): Promise<Account> {
  const { db, clock } = c.var.deps;
  const auth = c.var.auth;
  const [live, userRows, pending, ...factorRows] = await db.batch([liveSession(db, auth.sid, auth.sub, clock.now()).limit(1), ...accountReads(db, auth.sub)]);
  const user = userRows[0];
  if (!user || live.length === 0) throw invalidAccessToken();
  return { user, factors: toFactors(factorRows), pendingTotp: pending[0], guard: null, enrollToken: null };
}

/**
 * Enrolment endpoints take either a Bearer token (with the password where `withPassword`) or,
 * without one, the enrolment mfa_token of a login under MFA_REQUIRED.
 */
export async function enrollingAccount(c: Context<AppEnv>, body: { password?: string | undefined; mfa_token?: string | undefined }, withPassword: boolean): Promise<Account> {
  const bearer = await optionalBearer(c);
  if (bearer) {
    c.set("auth", bearer);
    if (!withPassword) return ownAccount(c);
    if (body.password === undefined) {
      throw new AppError("validation_failed", undefined, { details: [{ path: "password", message: "is required: confirm your password to change second factors" }] });
    }
    return reauthenticate(c, body.password);
  }
  if (body.mfa_token === undefined) throw invalidAccessToken();
  const deps = c.var.deps;
  const now = deps.clock.now();
  const token = await liveMfaToken(deps, body.mfa_token, ["mfa_enroll"], c.var.client, now);
  const [tokenRows, userRows, pending, ...factorRows] = await deps.db.batch([token.row, ...accountReads(deps.db, token.userId)]);
  const user = userRows[0];
  // A user who has a factor by now finishes logins with it, not with an enrolment token.
  if (!tokenRows[0] || !user || hasSecondFactor(toFactors(factorRows))) throw new AppError("invalid_mfa_token");
  if (user.disabledAt !== null) throw new AppError("account_disabled");
  return { user, factors: toFactors(factorRows), pendingTotp: pending[0], guard: null, enrollToken: tokenRows[0] };
}
