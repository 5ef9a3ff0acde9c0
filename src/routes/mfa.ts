import { Hono, type Context } from "hono";
import { and, eq, isNull } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import * as z from "zod";
import { recordAudit } from "../auth/audit.ts";
import { hasSecondFactor, toFactorsJson, type Factors } from "../auth/factors.ts";
import { passwordField, toUserJson } from "../auth/identity.ts";
import { mfaChangeWrites, type MfaChange } from "../auth/mfa-changes.ts";
import { consumeChallenge, countWrongMfaAttempt, createMfaToken, MFA_TOKEN_TTL_SECONDS, newChallenge, spendMfaToken } from "../auth/mfa-tokens.ts";
import {
  authenticationOptions,
  challengeOf,
  passkeyNameField,
  passkeyResponseField,
  registrationOptions,
  relyingParty,
  verifyRegistration,
} from "../auth/passkeys.ts";
import { issueRecoveryCodes } from "../auth/recovery.ts";
import { checkSecondFactor, ONE_PROOF_MESSAGE, oneProof, proofFields, type Proof } from "../auth/second-factor.ts";
import { openSession } from "../auth/sessions.ts";
import { claimTotpStep, openTotpSecret, sealTotpSecret } from "../auth/totp.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { passkeys, recoveryCodes, totpFactors } from "../db/schema.ts";
import type { AppEnv } from "../deps.ts";
import { requireAuth } from "../http/auth.ts";
import { commitWithEvents, deliverAfterResponse } from "../http/deliver-after-response.ts";
import { sessionCreated } from "../auth/events.ts";
import { enrollingAccount, ownAccount, reauthenticate, type Account } from "../http/reauthenticate.ts";
import { validateJson } from "../http/validate.ts";
import { passwordAttemptGuard } from "../limits/login-guard.ts";
import { matchTotp, newTotpSecret, totpUri } from "../lib/crypto/totp.ts";
import { randomId } from "../lib/crypto/tokens.ts";
import { AppError } from "../lib/errors.ts";
import { qrSvg } from "../lib/qr.ts";

const mfaTokenField = z.string().max(4096).optional();

/**
 * Checks a second factor for a change (removing a factor, new recovery codes) after the password:
 * a wrong proof counts toward the login guards like a wrong password; a right one is claimed
 * (TOTP step, recovery code, passkey counter and challenge) before the change is written.
 */
async function proveSecondFactor(c: Context<AppEnv>, account: Account, proof: Proof) {
  const deps = c.var.deps;
  const { db, clock } = deps;
  const client = c.var.client;
  const now = clock.now();
  const challenge = proof.passkey ? challengeOf(proof.passkey) : null;
  const verdict = await checkSecondFactor(deps, account.user.id, account.factors, proof, challenge, now);
  const wrong = async () => {
    await db.batch([...account.guard!.failed(now), recordAudit(db, "mfa_failed", account.user.id, client, now)]);
    return new AppError("invalid_second_factor");
  };
  if (!verdict.ok) throw await wrong();
  const consume = challenge === null ? null : await consumeChallenge(deps, challenge, "webauthn_reauth", account.user.id, client, now);
  const [claimed, spent] = await db.batch([verdict.claim, ...(consume ? [consume.spend] : [])]);
  if ((claimed as unknown[]).length === 0 || (consume && (spent as unknown[] | undefined)?.length === 0)) throw await wrong();
}

/** The writes and answer fields of a first factor: recovery codes, unless unused ones exist. */
async function recoveryCodesForNewFactor(c: Context<AppEnv>, account: Account, now: number) {
  if (account.factors.recoveryCodes.length > 0) return { writes: [], answer: { recovery_codes_left: account.factors.recoveryCodes.length } };
  const issued = await issueRecoveryCodes(c.var.deps, account.user.id, now);
  return { writes: issued.writes, answer: { recovery_codes: issued.codes } };
}

/**
 * On the enrolment path (MFA_REQUIRED) a new factor finishes the login (its token is spent by
 * then): the session, opened with the password and the new factor.
 */
async function enrolmentSession(c: Context<AppEnv>, account: Account, amr: "otp" | "hwk", now: number) {
  if (!account.enrollToken) return null;
  const deps = c.var.deps;
  const session = await openSession(deps, account.user, c.var.client, now, ["pwd", amr]);
  // The login is finished: this client's count of failures starts again.
  const guard = await passwordAttemptGuard(deps.db, deps.config, account.user.email, c.var.client.ip);
  const created = sessionCreated(deps.db, account.user.id, session, "login", now);
  return {
    body: session.body,
    writes: [...session.writes, guard.succeeded(), recordAudit(deps.db, "login_succeeded", account.user.id, c.var.client, now), created.write],
    events: [created],
  };
}

/** Audit, mail and webhook event for a change, plus the guard's success when a password was checked. */
async function changeWrites(c: Context<AppEnv>, account: Account, change: MfaChange, now: number) {
  const changed = await mfaChangeWrites(c.var.deps, account.user, change, c.var.client, now);
  const writes: [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]] = [...changed.writes, ...(account.guard ? [account.guard.succeeded()] : [])];
  return { writes, mail: changed.mail, events: changed.events };
}

// GET /v1/mfa; POST /v1/mfa/totp/enroll, /totp/activate, /passkeys/options, /passkeys,
// /passkeys/challenge, /remove, /recovery-codes
export const TotpEnrollBody = z.object({ password: passwordField.optional(), mfa_token: mfaTokenField });
export const TotpActivateBody = z.object({ code: proofFields.code.unwrap(), mfa_token: mfaTokenField });
export const PasskeyCreationOptionsBody = z.object({ password: passwordField.optional(), mfa_token: mfaTokenField });
export const NewPasskeyBody = z.object({ passkey: passkeyResponseField, name: passkeyNameField.optional(), mfa_token: mfaTokenField });
export const PasskeyChallengeBody = z.object({}).strict();
export const RemoveFactorBody = z.object({ factor_id: z.string().max(64), password: passwordField, ...proofFields }).refine(oneProof, ONE_PROOF_MESSAGE);
export const NewRecoveryCodesBody = z.object({ password: passwordField, ...proofFields }).refine(oneProof, ONE_PROOF_MESSAGE);

export const mfaRoutes = new Hono<AppEnv>()
  .get("/", requireAuth, async (c) => {
    const account = await ownAccount(c);
    const { config } = c.var.deps;
    return c.json({ ...toFactorsJson(account.factors), mfa_required: config.mfaRequired, passkeys_enabled: config.webauthnRpId !== undefined });
  })
  // A new authenticator app: its secret, as text, as an otpauth:// URI and as a QR code. It counts
  // only once a code from it activates it. Needs the password (or the enrolment token).
  .post("/totp/enroll", validateJson(TotpEnrollBody), async (c) => {
    const deps = c.var.deps;
    const { db, clock, config } = deps;
    const account = await enrollingAccount(c, c.req.valid("json"), true);
    if (account.factors.totp) throw new AppError("totp_already_enabled");
    const now = clock.now();
    const row = { id: randomId(), userId: account.user.id };
    const secret = newTotpSecret();
    const uri = totpUri(secret, config.appName, account.user.email);
    await db.batch([
      // A setup never activated is replaced: only the newest QR code works.
      db.delete(totpFactors).where(and(eq(totpFactors.userId, account.user.id), isNull(totpFactors.activatedAt))),
      db.insert(totpFactors).values({ ...row, secret: await sealTotpSecret(deps, row, secret), createdAt: now }),
      recordAudit(db, "totp_enrolled", account.user.id, c.var.client, now),
      ...(account.guard ? [account.guard.succeeded()] : []),
    ]);
    return c.json({ secret, otpauth_uri: uri, qr_svg: qrSvg(uri) });
  })
  // The first code from the app turns it on, and (for a first factor) hands out the recovery codes,
  // once. On the enrolment path it also finishes the login.
  .post("/totp/activate", validateJson(TotpActivateBody), async (c) => {
    const deps = c.var.deps;
    const { db, clock } = deps;
    const body = c.req.valid("json");
    const account = await enrollingAccount(c, body, false);
    if (account.factors.totp) throw new AppError("totp_already_enabled");
    const pending = account.pendingTotp;
    if (!pending) throw new AppError("totp_not_enrolled");
    const now = clock.now();
    const step = matchTotp(await openTotpSecret(deps, pending), body.code, now);
    if (step === null) {
      if (account.enrollToken) await db.batch([countWrongMfaAttempt(db, account.enrollToken.id, now)]);
      throw new AppError("invalid_second_factor", "That code is not right. Check the app's clock, and type the newest code.");
    }
    const token = account.enrollToken;
    const [claimed, spent] = await db.batch([claimTotpStep(db, pending, step, now, true), ...(token ? [spendMfaToken(db, token.id, now)] : [])]);
    if (claimed.length === 0) throw new AppError("invalid_second_factor");
    if (token && spent?.length === 0) throw new AppError("invalid_mfa_token");
    const codes = await recoveryCodesForNewFactor(c, account, now);
    const change = await changeWrites(c, account, "totp_enabled", now);
    const session = await enrolmentSession(c, account, "otp", now);
    await commitWithEvents(c, [...change.writes, ...codes.writes, ...(session?.writes ?? [])], [...change.events, ...(session?.events ?? [])]);
    deliverAfterResponse(c, [change.mail]);
    return c.json({ enabled: true, ...codes.answer, ...(session ? { user: toUserJson(account.user), session: session.body } : {}) });
  })
  // Passkey registration, step 1: options with a challenge for this user and client. Needs the
  // password (or the enrolment token).
  .post("/passkeys/options", validateJson(PasskeyCreationOptionsBody), async (c) => {
    const deps = c.var.deps;
    const rp = relyingParty(deps.config);
    if (!rp) throw new AppError("passkeys_unavailable");
    const account = await enrollingAccount(c, c.req.valid("json"), true);
    const now = deps.clock.now();
    const challenge = newChallenge();
    const issued = await createMfaToken(deps, account.user.id, "webauthn_register", c.var.client, now, challenge.text);
    await deps.db.batch([issued.write, ...(account.guard ? [account.guard.succeeded()] : [])]);
    return c.json({ options: await registrationOptions(rp, account.user, account.factors.passkeys, challenge.bytes), expires_in: MFA_TOKEN_TTL_SECONDS });
  })
  // Step 2: the browser's new credential, answering that challenge (spent whatever follows).
  .post(
    "/passkeys",
    validateJson(NewPasskeyBody),
    async (c) => {
      const deps = c.var.deps;
      const { db, clock } = deps;
      const rp = relyingParty(deps.config);
      if (!rp) throw new AppError("passkeys_unavailable");
      const body = c.req.valid("json");
      const account = await enrollingAccount(c, body, false);
      const now = clock.now();
      const challenge = challengeOf(body.passkey);
      const refused = () => new AppError("invalid_second_factor", "That passkey could not be registered. Ask for new options and try again.");
      if (challenge === null) throw refused();
      const consume = await consumeChallenge(deps, challenge, "webauthn_register", account.user.id, c.var.client, now);
      const token = account.enrollToken;
      const [consumed, spent] = await db.batch([consume.spend, ...(token ? [spendMfaToken(db, token.id, now)] : [])]);
      if (consumed.length === 0) throw refused();
      const row = await verifyRegistration(rp, body.passkey, challenge, account.user.id, body.name ?? "Passkey", now);
      if (!row) throw refused();
      if (token && spent?.length === 0) throw new AppError("invalid_mfa_token");
      const codes = await recoveryCodesForNewFactor(c, account, now);
      const change = await changeWrites(c, account, "passkey_added", now);
      const session = await enrolmentSession(c, account, "hwk", now);
      try {
        await commitWithEvents(
          c,
          [db.insert(passkeys).values(row), ...codes.writes, ...change.writes, ...(session?.writes ?? [])],
          [...change.events, ...(session?.events ?? [])],
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError("passkey_already_registered");
        throw err;
      }
      deliverAfterResponse(c, [change.mail]);
      return c.json({ passkey: { id: row.id, name: row.name, backed_up: row.backedUp }, ...codes.answer, ...(session ? { user: toUserJson(account.user), session: session.body } : {}) }, 201);
    },
  )
  // Options for proving a passkey to change factors (POST /remove, /recovery-codes).
  .post("/passkeys/challenge", requireAuth, validateJson(PasskeyChallengeBody), async (c) => {
    const deps = c.var.deps;
    const rp = relyingParty(deps.config);
    if (!rp) throw new AppError("passkeys_unavailable");
    const account = await ownAccount(c);
    if (account.factors.passkeys.length === 0) throw new AppError("mfa_not_enabled", "You have no passkey.");
    const now = deps.clock.now();
    const challenge = newChallenge();
    const issued = await createMfaToken(deps, account.user.id, "webauthn_reauth", c.var.client, now, challenge.text);
    await deps.db.batch([issued.write]);
    return c.json({ options: await authenticationOptions(rp, account.factors.passkeys, challenge.bytes, "preferred"), expires_in: MFA_TOKEN_TTL_SECONDS });
  })
  // Removing a factor needs the password and a current second factor (any of the user's, or a
  // recovery code). Without a factor left, the recovery codes go too.
  .post(
    "/remove",
    requireAuth,
    validateJson(RemoveFactorBody),
    async (c) => {
      const { db, clock } = c.var.deps;
      const body = c.req.valid("json");
      const account = await reauthenticate(c, body.password);
      const { factors, user } = account;
      const target = factors.totp?.id === body.factor_id ? ("totp" as const) : factors.passkeys.some((p) => p.id === body.factor_id) ? ("passkey" as const) : null;
      if (!target) {
        await db.batch([account.guard!.succeeded()]);
        throw new AppError("factor_not_found");
      }
      await proveSecondFactor(c, account, body);
      const now = clock.now();
      const remaining: Factors = {
        totp: target === "totp" ? undefined : factors.totp,
        passkeys: factors.passkeys.filter((p) => p.id !== body.factor_id),
        recoveryCodes: factors.recoveryCodes,
      };
      const lastOne = !hasSecondFactor(remaining);
      if (lastOne) remaining.recoveryCodes = [];
      const change = await changeWrites(c, account, target === "totp" ? "totp_removed" : "passkey_removed", now);
      await commitWithEvents(
        c,
        [
          target === "totp"
            ? db.delete(totpFactors).where(and(eq(totpFactors.id, body.factor_id), eq(totpFactors.userId, user.id)))
            : db.delete(passkeys).where(and(eq(passkeys.id, body.factor_id), eq(passkeys.userId, user.id))),
          ...(lastOne ? [db.delete(recoveryCodes).where(eq(recoveryCodes.userId, user.id))] : []),
          ...change.writes,
        ],
        change.events,
      );
      deliverAfterResponse(c, [change.mail]);
      return c.json(toFactorsJson(remaining));
    },
  )
  // New recovery codes (the old ones stop working): the password and a current second factor.
  .post(
    "/recovery-codes",
    requireAuth,
    validateJson(NewRecoveryCodesBody),
    async (c) => {
      const deps = c.var.deps;
      const body = c.req.valid("json");
      const account = await reauthenticate(c, body.password);
      if (!hasSecondFactor(account.factors)) {
        await deps.db.batch([account.guard!.succeeded()]);
        throw new AppError("mfa_not_enabled");
      }
      await proveSecondFactor(c, account, body);
      const now = deps.clock.now();
      const issued = await issueRecoveryCodes(deps, account.user.id, now);
      const change = await changeWrites(c, account, "recovery_codes_regenerated", now);
      await commitWithEvents(c, [...issued.writes, ...change.writes], change.events);
      deliverAfterResponse(c, [change.mail]);
      return c.json({ recovery_codes: issued.codes });
    },
  );
