import { Hono } from "hono";
import { and, desc, eq, gt, inArray, isNull, notInArray, sql } from "drizzle-orm";
import * as z from "zod";
import { chooseLocale } from "../lib/locale.ts";
import { recordAudit } from "../auth/audit.ts";
import { countWrongAttempt, locateCredential, refuseCredential, spendToken } from "../auth/email-tokens.ts";
import { prepareConfirmation } from "../auth/link-mails.ts";
import { credentialFields, credentialOf, emailField, nameField, passwordField, recipientOf, toUserJson, type UserRow } from "../auth/identity.ts";
import { checkNewPassword } from "../auth/new-password.ts";
import { openSession, PASSWORD_ONLY } from "../auth/sessions.ts";
import { enrollableMethods } from "../auth/factors.ts";
import { createMfaToken, MFA_TOKEN_TTL_SECONDS } from "../auth/mfa-tokens.ts";
import { emailTokens, registrations, users } from "../db/schema.ts";
import { lookupAccount } from "../auth/lookup.ts";
import { isUniqueViolation } from "../db/errors.ts";
import type { AppEnv } from "../deps.ts";
import { validateJson } from "../http/validate.ts";
import { passwordAttemptGuard } from "../limits/login-guard.ts";
import { encodeBase64Url, sha256, timingSafeEqual } from "../lib/crypto/encoding.ts";
import { randomId } from "../lib/crypto/tokens.ts";
import { AppError } from "../lib/errors.ts";
import { queueMail } from "../mail/outbox.ts";
import { commitWithEvents, deliverAfterResponse } from "../http/deliver-after-response.ts";
import { sessionCreated, userConfirmed, userCreated } from "../auth/events.ts";

const ACCEPTED = { message: "If the address can be registered, a confirmation email is on its way." };
const RESENT = { message: "If the address has an unconfirmed account, a new confirmation email is on its way." };
/** Pending registrations kept per address; a newer one pushes out the oldest, not the others. */
export const PENDING_REGISTRATIONS_KEPT = 3;

// PKCE (RFC 7636, S256 only): the registering browser keeps a random verifier and sends its hash.
const codeChallengeField = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, "must be the base64url SHA-256 of a code verifier (43 characters)");
const codeVerifierField = z
  .string()
  .regex(/^[A-Za-z0-9._~-]{43,128}$/, "must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~");

export const RegisterBody = z.object({
  email: emailField,
  password: passwordField,
  name: nameField,
  locale: z.string().max(35).optional(),
  code_challenge: codeChallengeField.optional(),
});
export const ConfirmBody = z.object({ ...credentialFields, password: passwordField.optional(), code_verifier: codeVerifierField.optional() });
export const ResendConfirmBody = z.object({ email: emailField });

// POST /v1/register
export const registerRoutes = new Hono<AppEnv>()
  .post(
    "/",
    validateJson(RegisterBody),
    async (c) => {
      const deps = c.var.deps;
      const { db, config, clock, passwords } = deps;
      const body = c.req.valid("json");
      await checkNewPassword(deps, body.password, { email: body.email, requestId: c.var.requestId });
      const now = clock.now();
      const account = await lookupAccount(deps, body.email, ["confirm", "already_registered"], now);
      const existing = account.user;

      // Every branch hashes once and writes one batch, so neither the answer nor its timing says
      // whether the address already has an account.
      if (!existing) {
        // Nothing becomes an account yet: whoever registered, only the one who confirms with the
        // mailed token *and* this registration's password (or PKCE verifier) activates it.
        const registration = {
          id: randomId(),
          email: body.email,
          name: body.name,
          locale: chooseLocale(body.locale, c.req.header("accept-language")),
          passwordHash: await passwords.hash(body.password, { saltFor: body.email }),
          codeChallenge: body.code_challenge ?? null,
          createdAt: now,
          expiresAt: now + config.confirmTokenTtl * 1000,
        };
        const newest = db
          .select({ id: registrations.id })
          .from(registrations)
          .where(eq(registrations.email, body.email))
          .orderBy(desc(registrations.createdAt), desc(sql`rowid`))
          .limit(PENDING_REGISTRATIONS_KEPT);
        const confirmation = account.mailAllowed("confirm") ? await prepareConfirmation(deps, registration, now) : null;
        await db.batch([
          db.insert(registrations).values(registration),
          db.delete(registrations).where(and(eq(registrations.email, body.email), notInArray(registrations.id, newest))),
          ...(confirmation?.writes ?? []),
          ...account.countMail("confirm"),
          recordAudit(db, "registered", registration.id, c.var.client, now),
        ]);
        if (confirmation) deliverAfterResponse(c, [confirmation.mail]);
        return c.json(ACCEPTED, 202);
      }

      await passwords.burn(body.password);
      if (!account.mailAllowed("already_registered")) {
        await db.batch([...account.countMail("already_registered")]);
        return c.json(ACCEPTED, 202);
      }
      const mail = await queueMail(
        deps,
        {
          ...recipientOf(existing),
          template: "already-registered",
          data: {
            appName: config.appName,
            name: existing.name,
            loginUrl: config.loginUrl,
            resetUrl: config.forgotPasswordUrl,
          },
        },
        now,
      );
      await db.batch([mail.write, ...account.countMail("already_registered")]);
      deliverAfterResponse(c, [mail.row]);
      return c.json(ACCEPTED, 202);
    },
  );

// POST /v1/confirm, POST /v1/confirm/resend
export const confirmRoutes = new Hono<AppEnv>()
  .post(
    "/",
    validateJson(ConfirmBody),
    async (c) => {
      const deps = c.var.deps;
      const { db, clock, passwords } = deps;
      const body = c.req.valid("json");
      // The token (or the address and code) proves the mailbox; the proof says which registration
      // the confirmer made. A token alone (a link scanner, an unsolicited mail clicked) activates
      // nothing.
      if (body.password === undefined && body.code_verifier === undefined) throw new AppError("proof_required");
      const credential = credentialOf(body);
      const now = clock.now();
      const where = await locateCredential(deps, credential, "confirm_email", now);
      if (!where) throw new AppError("invalid_token");
      const tokenEmail = db.select({ email: emailTokens.email }).from(emailTokens).where(where.live);
      const [tokenRows, pending] = await db.batch([
        db.select().from(emailTokens).where(where.live).limit(1),
        db
          .select()
          .from(registrations)
          .where(and(inArray(registrations.email, tokenEmail), gt(registrations.expiresAt, now)))
          .orderBy(desc(registrations.createdAt)),
      ]);
      const token = tokenRows[0];
      if (!token?.email) throw await refuseCredential(deps, c.var.client, credential, "confirm_email", now);

      // One password derivation whichever proof is given.
      let match: number;
      if (body.password !== undefined) {
        match = await passwords.matchAny(body.password, pending.map((r) => r.passwordHash));
      } else {
        await passwords.burn(body.code_verifier!);
        const challenge = encodeBase64Url(await sha256(body.code_verifier!));
        match = pending.findIndex((r) => r.codeChallenge !== null && timingSafeEqual(r.codeChallenge, challenge));
      }
      const registration = pending[match];
      if (!registration) {
        // The token stays usable for the owner; wrong proofs wear it out and count as failed logins.
        const guard = await passwordAttemptGuard(db, deps.config, token.email, c.var.client.ip);
        await db.batch([countWrongAttempt(db, token.id, now), ...guard.failedUnreserved(now), recordAudit(db, "confirm_failed", null, c.var.client, now)]);
        throw new AppError("invalid_credentials", "That is not the password this address was registered with.");
      }

      const user: UserRow = {
        id: registration.id,
        email: registration.email,
        name: registration.name,
        passwordHash: registration.passwordHash,
        roles: ["user"],
        locale: registration.locale,
        emailConfirmedAt: now,
        disabledAt: null,
        createdAt: now,
        updatedAt: now,
      };
      // amr "pwd" for either proof: the verifier stands for the browser that chose the password.
      // Under MFA_REQUIRED the new account enrols a second factor before it gets a session.
      const session = deps.config.mfaRequired ? null : await openSession(deps, user, c.var.client, now, PASSWORD_ONLY);
      const enrol = deps.config.mfaRequired ? await createMfaToken(deps, user.id, "mfa_enroll", c.var.client, now) : null;
      // The account begins here, not at registration: a pending registration may be a stranger's
      // and is never announced. Integrators see user.created, user.confirmed (and session.created).
      const events = [
        userCreated(db, user.id, now),
        userConfirmed(db, user.id, now),
        ...(session ? [sessionCreated(db, user.id, session, "confirm", now)] : []),
      ];
      try {
        await commitWithEvents(
          c,
          [
            spendToken(db, token.id, now),
            // The account is created here; if a concurrent confirmation created it first, the unique
            // address makes this whole batch fail, so only one session is ever opened.
            db.insert(users).values(user),
            db.delete(registrations).where(eq(registrations.email, user.email)),
            db
              .update(emailTokens)
              .set({ usedAt: now })
              .where(and(eq(emailTokens.email, user.email), eq(emailTokens.purpose, "confirm_email"), isNull(emailTokens.usedAt))),
            ...(session?.writes ?? [enrol!.write]),
            recordAudit(db, "email_confirmed", user.id, c.var.client, now),
            ...events.map((event) => event.write),
          ],
          events,
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError("invalid_token");
        throw err;
      }
      if (enrol) {
        return c.json({ user: toUserJson(user), mfa_enrollment_required: true, mfa_token: enrol.token, expires_in: MFA_TOKEN_TTL_SECONDS, methods: enrollableMethods(deps.config) });
      }
      return c.json({ user: toUserJson(user), session: session!.body });
    },
  )
  .post("/resend", validateJson(ResendConfirmBody), async (c) => {
    const deps = c.var.deps;
    const { db, clock } = deps;
    const now = clock.now();
    const account = await lookupAccount(deps, c.req.valid("json").email, ["confirm"], now);
    const newest = account.pending[0];
    // Unknown, confirmed and over-budget addresses still count and write, like the sending path.
    // The mail greets nobody by name: the name is whatever some registrant typed.
    if (!account.user && newest && account.mailAllowed("confirm")) {
      const confirmation = await prepareConfirmation(deps, { ...newest, name: null }, now);
      await db.batch([...confirmation.writes, ...account.countMail("confirm")]);
      deliverAfterResponse(c, [confirmation.mail]);
    } else {
      await db.batch([...account.countMail("confirm")]);
    }
    return c.json(RESENT, 202);
  });
