import { Hono } from "hono";
import { eq } from "drizzle-orm";
import * as z from "zod";
import { recordAudit } from "../auth/audit.ts";
import { applyEmailChange, prepareAddressInUse, prepareEmailChange, revertEmailChange } from "../auth/email-change.ts";
import { consumeUserCredential, refuseCredential } from "../auth/email-tokens.ts";
import { credentialFields, credentialOf, emailField, passwordField } from "../auth/identity.ts";
import { users } from "../db/schema.ts";
import { isUniqueViolation } from "../db/errors.ts";
import type { AppEnv } from "../deps.ts";
import { requireAuth } from "../http/auth.ts";
import { commitWithEvents, deliverAfterResponse } from "../http/deliver-after-response.ts";
import { confirmPassword } from "../http/reauthenticate.ts";
import { validateJson } from "../http/validate.ts";
import { mailBudget } from "../limits/mail-budget.ts";
import { AppError } from "../lib/errors.ts";

const CHANGE_ACCEPTED = {
  message: "If the new address can be used, an email to confirm it is on its way there. Your current address has been told too.",
};

// POST /v1/email/change, /v1/email/change/confirm, /v1/email/change/revert
export const EmailChangeBody = z.object({ new_email: emailField, password: passwordField });
export const EmailChangeConfirmBody = z.object(credentialFields);
export const EmailChangeRevertBody = z.object({ token: z.string().max(4096) });

export const emailChangeRoutes = new Hono<AppEnv>()
  .post("/", requireAuth, validateJson(EmailChangeBody), async (c) => {
    const deps = c.var.deps;
    const { db, config } = deps;
    const { auth, client } = c.var;
    const { new_email: newEmail, password } = c.req.valid("json");
    const budget = await mailBudget(db, newEmail, ["change_email"], config.mailPerAddressPerHour);
    const { user, guard, now, results } = await confirmPassword(c, password, [db.select().from(users).where(eq(users.email, newEmail)).limit(1), ...budget.reads]);
    const [holders, ...counters] = results;
    if (newEmail === user.email) {
      await db.batch([guard.succeeded()]);
      throw new AppError("validation_failed", undefined, { details: [{ path: "new_email", message: "new_email is already this account's address" }] });
    }
    // A free and a taken address cost the same and answer the same; only the new address's mailbox
    // learns which it was. Past the new address's mail budget nothing is sent, as for register.
    const mail = budget.evaluate(counters);
    const holder = holders[0];
    const prepared = !mail.allowed("change_email", now)
      ? null
      : holder
        ? await prepareAddressInUse(deps, user, holder, now)
        : await prepareEmailChange(deps, user, newEmail, auth.sid, now);
    await db.batch([
      guard.succeeded(),
      ...mail.count("change_email", now),
      ...(prepared?.writes ?? []),
      recordAudit(db, "email_change_requested", user.id, client, now),
    ]);
    if (prepared) deliverAfterResponse(c, prepared.mails);
    return c.json(CHANGE_ACCEPTED, 202);
  })
  .post("/confirm", validateJson(EmailChangeConfirmBody), async (c) => {
    const deps = c.var.deps;
    const { db, clock } = deps;
    const credential = credentialOf(c.req.valid("json"));
    const now = clock.now();
    // Consumed first: of two concurrent uses of one link (or its code), one wins.
    const consumed = await consumeUserCredential(deps, credential, "change_email", now);
    if (!consumed) throw await refuseCredential(deps, c.var.client, credential, "change_email", now);
    const { user, token } = consumed;
    if (user.disabledAt !== null) throw new AppError("account_disabled");
    const change = applyEmailChange(db, user, token, c.var.client, now);
    try {
      await commitWithEvents(c, change.writes, change.events);
    } catch (err) {
      // Someone registered and confirmed the address after the change was asked for.
      if (isUniqueViolation(err)) throw new AppError("invalid_token", "That address now belongs to another account.");
      throw err;
    }
    return c.json({ message: `Your email address is now ${token.email}. Log in with it from now on.`, email: token.email });
  })
  .post("/revert", validateJson(EmailChangeRevertBody), async (c) => {
    const deps = c.var.deps;
    const { db, clock } = deps;
    const now = clock.now();
    const consumed = await consumeUserCredential(deps, { token: c.req.valid("json").token }, "revert_email", now);
    if (!consumed) throw new AppError("invalid_token");
    const { user, token } = consumed;
    const revert = revertEmailChange(db, user, token, c.var.client, now);
    try {
      await commitWithEvents(c, revert.writes, revert.events);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError("invalid_token", "That address now belongs to another account, so the change cannot be undone.");
      throw err;
    }
    const message = revert.reverted
      ? `Your address is ${token.email} again and every session has ended. Choose a new password now: whoever changed the address knows the current one.`
      : `The change is cancelled: your address stays ${token.email}. If you did not ask for it, choose a new password: whoever did knows the current one.`;
    return c.json({ message, email: token.email, reverted: revert.reverted });
  });
