import { Hono } from "hono";
import { eq } from "drizzle-orm";
import * as z from "zod";
import { resolveLocale } from "../../emails/index.ts";
import { recordAudit } from "../auth/audit.ts";
import { consumeEmailToken } from "../auth/email-tokens.ts";
import { prepareConfirmation } from "../auth/link-mails.ts";
import { emailField, nameField, passwordField, recipientOf, toUserJson } from "../auth/identity.ts";
import { checkPasswordPolicy, passwordPolicy } from "../auth/password-policy.ts";
import { refuseBreachedPassword } from "../auth/breached-password.ts";
import { openSession } from "../auth/sessions.ts";
import { users } from "../db/schema.ts";
import { lookupAccount } from "../auth/lookup.ts";
import { isUniqueViolation } from "../db/errors.ts";
import type { AppEnv } from "../http/context.ts";
import { validateJson } from "../http/validate.ts";
import { randomId } from "../lib/crypto/tokens.ts";
import { AppError } from "../lib/errors.ts";
import { queueMail } from "../mail/outbox.ts";
import { sendQueued } from "../mail/send-queued.ts";

const ACCEPTED = { message: "If the address can be registered, a confirmation email is on its way." };
const RESENT = { message: "If the address has an unconfirmed account, a new confirmation email is on its way." };

export const accountRoutes = new Hono<AppEnv>()
  .post(
    "/v1/register",
    validateJson(
      z.object({ email: emailField, password: passwordField, name: nameField, locale: z.string().max(35).optional() }),
    ),
    async (c) => {
      const deps = c.var.deps;
      const { db, config, clock, passwords } = deps;
      const body = c.req.valid("json");
      checkPasswordPolicy(body.password, passwordPolicy(config, body.email));
      await refuseBreachedPassword(deps, body.password, c.var.requestId);
      const now = clock.now();
      const account = await lookupAccount(deps, body.email, ["confirm", "already_registered"]);
      const existing = account.user;

      // Every branch hashes once and writes one batch, so neither the answer nor its timing says
      // whether the address already has an account.
      if (!existing) {
        const passwordHash = await passwords.hash(body.password);
        const user = {
          id: randomId(),
          email: body.email,
          name: body.name,
          passwordHash,
          roles: ["user"],
          locale: resolveLocale(body.locale, c.req.header("accept-language")),
          createdAt: now,
          updatedAt: now,
        };
        const confirmation = await prepareConfirmation(deps, user, now);
        try {
          await db.batch([
            db.insert(users).values(user),
            ...confirmation.writes,
            account.countMail("confirm", now),
            recordAudit(db, "registered", user.id, c.var.client, now),
          ]);
        } catch (err) {
          // A concurrent registration of the same address won the unique index: same answer.
          if (isUniqueViolation(err)) return c.json(ACCEPTED, 202);
          throw err;
        }
        sendQueued(c, [confirmation.mail]);
        return c.json(ACCEPTED, 202);
      }

      await passwords.burn(body.password);
      const unconfirmed = existing.emailConfirmedAt === null && existing.disabledAt === null;
      const kind = unconfirmed ? "confirm" : "already_registered";
      if (!account.mailAllowed(kind, now)) {
        await db.batch([account.countMail(kind, now)]);
      } else if (unconfirmed) {
        const confirmation = await prepareConfirmation(deps, existing, now);
        await db.batch([...confirmation.writes, account.countMail(kind, now)]);
        sendQueued(c, [confirmation.mail]);
      } else {
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
        await db.batch([mail.write, account.countMail(kind, now)]);
        sendQueued(c, [mail.row]);
      }
      return c.json(ACCEPTED, 202);
    },
  )
  .post("/v1/confirm", validateJson(z.object({ token: z.string().max(4096) })), async (c) => {
    const deps = c.var.deps;
    const { db, clock } = deps;
    const now = clock.now();
    const consumed = await consumeEmailToken(db, c.req.valid("json").token, "confirm_email", now);
    if (!consumed) throw new AppError("invalid_token");
    const user = consumed.user;
    if (user.disabledAt !== null) throw new AppError("account_disabled");
    const confirmedAt = user.emailConfirmedAt ?? now;
    const session = await openSession(deps, user, c.var.client, now);
    await db.batch([
      db.update(users).set({ emailConfirmedAt: confirmedAt, updatedAt: now }).where(eq(users.id, user.id)),
      ...session.writes,
      recordAudit(db, "email_confirmed", user.id, c.var.client, now),
    ]);
    return c.json({ user: toUserJson({ ...user, emailConfirmedAt: confirmedAt }), session: session.body });
  })
  .post("/v1/confirm/resend", validateJson(z.object({ email: emailField })), async (c) => {
    const deps = c.var.deps;
    const { db, clock } = deps;
    const now = clock.now();
    const account = await lookupAccount(deps, c.req.valid("json").email, ["confirm"]);
    const user = account.user;
    // Unknown, confirmed and over-budget addresses still count and write, like the sending path.
    if (user && user.emailConfirmedAt === null && user.disabledAt === null && account.mailAllowed("confirm", now)) {
      const confirmation = await prepareConfirmation(deps, user, now);
      await db.batch([...confirmation.writes, account.countMail("confirm", now)]);
      sendQueued(c, [confirmation.mail]);
    } else {
      await db.batch([account.countMail("confirm", now)]);
    }
    return c.json(RESENT, 202);
  });
