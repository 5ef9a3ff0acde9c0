import { eq, inArray, or, sql } from "drizzle-orm";
import { auditEvents, emailTokens, outbox, refreshTokens, registrations, sessions, users, webhookMessages } from "../db/schema.ts";
import type { Deps, RequestInfo } from "../deps.ts";
import { codeGuard } from "../limits/code-guard.ts";
import { passwordAttemptGuard } from "../limits/login-guard.ts";
import { forgetMailbox } from "../limits/mail-budget.ts";
import type { Locale } from "../lib/locale.ts";
import { queueMail } from "../mail/outbox.ts";
import { recordAudit } from "./audit.ts";
import { sessionsRevoked, userDeleted } from "./events.ts";
import type { UserRow } from "./identity.ts";

/**
 * Who erased the account: its owner, or the admin API. An admin's erasure keeps the user's id on its
 * own audit row, with the key that did it (a tombstone for the audit trail, naming no one); the
 * owner's keeps nothing.
 */
export type Eraser = { by: "owner" } | { by: "admin"; actor: string; client: RequestInfo };

// Deleting an account erases what names or links to the person, in one batch: the account, its
// sessions and refresh tokens, every mailed link (to any address it had), registrations waiting for
// its address, mail to it, the counters keyed by its address (hashed, but a hash of an address is
// easy to match), and the personal fields of its audit rows, which stay as bare "something happened
// then" facts. The confirmation mail is queued after the outbox rows are deleted, and forgets its
// recipient once it is sent. Not erased: suppressions (an address that bounced or complained stays
// unmailed, whoever registers it next) and request logs, which never hold addresses. Integrators
// hear user.deleted and session.revoked (user_deleted), which name the account by its id alone;
// commit `writes` with `events` (commitWithEvents).
export async function eraseAccount(deps: Deps, user: UserRow, eraser: Eraser, now: number) {
  const { db, config } = deps;
  const mail = await queueMail(
    deps,
    {
      userId: null,
      to: user.email,
      locale: user.locale as Locale,
      template: "account-deleted",
      data: { appName: config.appName, name: user.name, when: new Date(now).toISOString(), byAdmin: eraser.by === "admin" },
      forgetRecipient: true,
    },
    now,
  );
  const codes = await codeGuard(db, user.email);
  // Clearing the guard needs no client: every client's row of the address goes.
  const guard = await passwordAttemptGuard(db, config, user.email, null);
  const deleted = userDeleted(db, user.id, now);
  const revoked = sessionsRevoked(db, user.id, "all", "user_deleted", now);
  const writes = [
    // Webhook messages about the person (still waiting or kept 30 days for replay) keep their ids
    // and order, and lose everything else: what integrators get later says only whose id it was.
    // First, so that the two events below, which hold nothing else, are left as they are written.
    db
      .update(webhookMessages)
      .set({
        data: sql`json_object('event_id', json_extract(${webhookMessages.data}, '$.event_id'), 'sequence', json_extract(${webhookMessages.data}, '$.sequence'), 'user', json_object('id', ${webhookMessages.userId}), 'redacted', json('true'))`,
      })
      .where(eq(webhookMessages.userId, user.id)),
    // Both read the account and its sessions, so they come before those are deleted.
    deleted.write,
    revoked.write,
    // By session: refresh_tokens has no index of its own on user_id.
    db.delete(refreshTokens).where(inArray(refreshTokens.sessionId, db.select({ id: sessions.id }).from(sessions).where(eq(sessions.userId, user.id)))),
    db.delete(sessions).where(eq(sessions.userId, user.id)),
    db.delete(emailTokens).where(or(eq(emailTokens.userId, user.id), eq(emailTokens.email, user.email))),
    db.delete(registrations).where(eq(registrations.email, user.email)),
    db.delete(outbox).where(or(eq(outbox.userId, user.id), eq(outbox.toEmail, user.email))),
    db.update(auditEvents).set({ userId: null, ip: null, userAgent: null }).where(eq(auditEvents.userId, user.id)),
    ...guard.clearAll(),
    ...(await forgetMailbox(db, user.email)),
    codes.forget(),
    db.delete(users).where(eq(users.id, user.id)),
    mail.write,
    eraser.by === "admin"
      ? recordAudit(db, "admin_user_deleted", user.id, eraser.client, now, eraser.actor)
      : // That an account was deleted, and when; nothing about whose.
        recordAudit(db, "account_deleted", null, { ip: null, userAgent: null }, now),
  ] as const;
  return { writes, events: [deleted, revoked], mail: mail.row };
}
