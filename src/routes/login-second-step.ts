import { Hono } from "hono";
import { eq, inArray } from "drizzle-orm";
import * as z from "zod";
import { recordAudit } from "../auth/audit.ts";
import { readFactors, toFactors } from "../auth/factors.ts";
import { toUserJson } from "../auth/identity.ts";
import { mfaChangeWrites } from "../auth/mfa-changes.ts";
import { consumeChallenge, countWrongMfaAttempt, createMfaToken, liveMfaToken, MFA_TOKEN_TTL_SECONDS, newChallenge, spendMfaToken } from "../auth/mfa-tokens.ts";
import { authenticationOptions, challengeOf, claimPasskeyUse, passkeyResponseField, relyingParty, verifyAssertion } from "../auth/passkeys.ts";
import { RECOVERY_CODES_LOW } from "../auth/recovery.ts";
import { checkSecondFactor, ONE_PROOF_MESSAGE, oneProof, proofFields } from "../auth/second-factor.ts";
import { loginPasskeyChallenge } from "../auth/second-step.ts";
import { openSession } from "../auth/sessions.ts";
import { passkeys, users } from "../db/schema.ts";
import type { AppEnv } from "../deps.ts";
import { commitWithEvents, deliverAfterResponse } from "../http/deliver-after-response.ts";
import { sessionCreated } from "../auth/events.ts";
import { validateJson } from "../http/validate.ts";
import { passwordAttemptGuard } from "../limits/login-guard.ts";
import { AppError } from "../lib/errors.ts";

/** What a client is told after a recovery code is used: how many are left, and a nudge when few. */
function recoveryNotice(left: number) {
  return {
    recovery_codes_left: left,
    ...(left < RECOVERY_CODES_LOW
      ? { notice: `Only ${left} recovery code${left === 1 ? "" : "s"} left: make new ones with POST /v1/mfa/recovery-codes.` }
      : {}),
  };
}

export const MfaLoginBody = z.object({ mfa_token: z.string().max(4096), ...proofFields }).refine(oneProof, ONE_PROOF_MESSAGE);
export const PasskeyLoginOptionsBody = z.object({}).strict();
export const PasskeyLoginBody = z.object({ passkey: passkeyResponseField });

// POST /v1/login/mfa, POST /v1/login/passkey/options, POST /v1/login/passkey
export const loginSecondStepRoutes = new Hono<AppEnv>()
  // The second step of a login: the mfa_token from POST /v1/login and one proof. Round trips: the
  // token, its user and factors; then this client's guard with the token spent and the proof
  // claimed (each by a conditional UPDATE, so a token and a code work once even when raced); then
  // the session.
  .post(
    "/mfa",
    validateJson(MfaLoginBody),
    async (c) => {
      const deps = c.var.deps;
      const { db, clock, config } = deps;
      const body = c.req.valid("json");
      const client = c.var.client;
      const now = clock.now();
      const token = await liveMfaToken(deps, body.mfa_token, ["mfa_login"], client, now);
      const [tokenRows, userRows, ...factorRows] = await db.batch([
        token.row,
        db.select().from(users).where(inArray(users.id, token.userId)).limit(1),
        ...readFactors(db, token.userId),
      ]);
      const row = tokenRows[0];
      const user = userRows[0];
      if (!row || !user) throw new AppError("invalid_mfa_token");
      if (user.disabledAt !== null) throw new AppError("account_disabled");

      const factors = toFactors(factorRows);
      const verdict = await checkSecondFactor(deps, user.id, factors, body, await loginPasskeyChallenge(deps, body.mfa_token), now);
      // Codes are guessed against the same two tiers as passwords: this client is locked out after
      // a few wrong ones, and past the day's failures the next login needs the mailed unlock code.
      const guard = await passwordAttemptGuard(db, config, user.email, client.ip);
      if (!verdict.ok) {
        const [previous, reserved, today] = await db.batch([
          ...guard.statements(now),
          countWrongMfaAttempt(db, row.id, now),
          ...guard.failed(now),
          recordAudit(db, "mfa_failed", user.id, client, now),
        ]);
        guard.check([previous, reserved, today], now);
        throw new AppError("invalid_second_factor");
      }
      const [previous, reserved, today, spent, claimed] = await db.batch([...guard.statements(now), spendMfaToken(db, row.id, now), verdict.claim]);
      guard.check([previous, reserved, today], now);
      if (spent.length === 0) throw new AppError("invalid_mfa_token");
      if ((claimed as unknown[]).length === 0) {
        // The same code or recovery code was just accepted for another request: a replay.
        await db.batch([...guard.failed(now), recordAudit(db, "mfa_failed", user.id, client, now)]);
        throw new AppError("invalid_second_factor");
      }

      const session = await openSession(deps, user, client, now, ["pwd", verdict.amr]);
      const recoveryLeft = verdict.recoveryCode ? factors.recoveryCodes.length - 1 : null;
      const notice = recoveryLeft === null ? null : await mfaChangeWrites(deps, user, "recovery_code_used", client, now, { recoveryCodesLeft: recoveryLeft });
      const created = sessionCreated(db, user.id, session, "login", now);
      await commitWithEvents(
        c,
        [...session.writes, guard.succeeded(), ...(notice?.writes ?? []), recordAudit(db, "login_succeeded", user.id, client, now), created.write],
        [created, ...(notice?.events ?? [])],
      );
      if (notice) deliverAfterResponse(c, [notice.mail]);
      return c.json({ user: toUserJson(user), session: session.body, ...(recoveryLeft === null ? {} : recoveryNotice(recoveryLeft)) });
    },
  )
  // Passwordless sign-in with a passkey: options with a fresh challenge (any passkey of this site;
  // the browser lists the user's), then the assertion. User verification (PIN or biometric) is
  // required, so the passkey is both factors: amr ["hwk"].
  .post("/passkey/options", validateJson(PasskeyLoginOptionsBody), async (c) => {
    const deps = c.var.deps;
    const rp = relyingParty(deps.config);
    if (!rp) throw new AppError("passkeys_unavailable");
    const now = deps.clock.now();
    const challenge = newChallenge();
    const issued = await createMfaToken(deps, null, "webauthn_login", c.var.client, now, challenge.text);
    await deps.db.batch([issued.write]);
    return c.json({ options: await authenticationOptions(rp, [], challenge.bytes, "required"), expires_in: MFA_TOKEN_TTL_SECONDS });
  })
  .post("/passkey", validateJson(PasskeyLoginBody), async (c) => {
    const deps = c.var.deps;
    const { db, clock } = deps;
    const rp = relyingParty(deps.config);
    if (!rp) throw new AppError("passkeys_unavailable");
    const { passkey } = c.req.valid("json");
    const client = c.var.client;
    const now = clock.now();
    const challenge = challengeOf(passkey);
    const refused = () => new AppError("invalid_credentials", "That passkey could not be verified. Try again, or log in with your password.");
    if (challenge === null) throw refused();
    // The challenge is spent whatever follows: each ceremony gets one answer.
    const consume = await consumeChallenge(deps, challenge, "webauthn_login", null, client, now);
    const [consumed, found] = await db.batch([
      consume.spend,
      db.select({ passkey: passkeys, user: users }).from(passkeys).innerJoin(users, eq(users.id, passkeys.userId)).where(eq(passkeys.credentialId, passkey.id)).limit(1),
    ]);
    const match = found[0];
    const verified = consumed.length > 0 && match ? await verifyAssertion(rp, passkey, challenge, match.passkey, true) : null;
    if (!match || !verified) {
      await db.batch([recordAudit(db, "passkey_login_failed", match?.user.id ?? null, client, now)]);
      throw refused();
    }
    if (match.user.disabledAt !== null) throw new AppError("account_disabled");
    const [claimed] = await db.batch([claimPasskeyUse(db, match.passkey, verified.newCounter, now)]);
    if (claimed.length === 0) {
      await db.batch([recordAudit(db, "passkey_login_failed", match.user.id, client, now)]);
      throw refused();
    }
    const session = await openSession(deps, match.user, client, now, ["hwk"]);
    const created = sessionCreated(db, match.user.id, session, "login", now);
    await commitWithEvents(c, [...session.writes, recordAudit(db, "login_succeeded", match.user.id, client, now), created.write], [created]);
    return c.json({ user: toUserJson(match.user), session: session.body });
  });
