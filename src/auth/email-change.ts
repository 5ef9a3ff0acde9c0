import { and, eq, gte, isNull, ne } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { emailTokens, registrations, sessions, users } from "../db/schema.ts";
import type { Deps, RequestInfo } from "../deps.ts";
import { linkWithToken } from "../lib/links.ts";
import type { Locale } from "../lib/locale.ts";
import { queueMail } from "../mail/outbox.ts";
import { recordAudit } from "./audit.ts";
import { emailChanged, sessionsRevoked } from "./events.ts";
import { createEmailToken, unusedTokensOf, voidUserTokens, type EmailTokenRow } from "./email-tokens.ts";
import { recipientOf, type UserRow } from "./identity.ts";
import { revokeUserSessions } from "./sessions.ts";

// An email change happens only from the new mailbox (its link or code), and the old mailbox can stop
// it, or undo it for a while after it happened. Each function here returns the statements for the
// caller's one write batch, and the outbox rows to deliver after the response or the webhook events
// to commit with it (commitWithEvents).

/** How long after an email change the old address's link still undoes it. */
export const EMAIL_CHANGE_UNDO_HOURS = 72;

/**
 * The old address is told at once, with a link that cancels the change (and later undoes it). The
 * requester sees the same mail whether the new address was free or taken, so it reveals nothing.
 */
async function prepareChangeNotice(deps: Deps, user: UserRow, newEmail: string, expiresAt: number, now: number) {
  const { config } = deps;
  const revert = await createEmailToken(deps, { userId: user.id, email: user.email }, "revert_email", (expiresAt - now) / 1000, now, { withCode: false });
  const mail = await queueMail(
    deps,
    {
      ...recipientOf(user),
      template: "email-change-requested",
      data: {
        appName: config.appName,
        name: user.name,
        newEmail,
        when: new Date(now).toISOString(),
        link: linkWithToken(config.emailChangeRevertUrl, revert.token),
        undoSeconds: EMAIL_CHANGE_UNDO_HOURS * 3600,
      },
    },
    now,
  );
  return { writes: [...revert.writes, mail.write], mail: mail.row };
}

/** A new address nobody has: its confirmation link and code, and the notice to the old address. */
export async function prepareEmailChange(deps: Deps, user: UserRow, newEmail: string, sessionId: string, now: number) {
  const { config } = deps;
  const change = await createEmailToken(deps, { userId: user.id, email: newEmail, sessionId }, "change_email", config.confirmTokenTtl, now);
  const confirm = await queueMail(
    deps,
    {
      userId: user.id,
      to: newEmail,
      locale: user.locale as Locale,
      template: "email-change-confirm",
      data: {
        appName: config.appName,
        name: user.name,
        link: linkWithToken(config.emailChangeConfirmUrl, change.token),
        code: change.code!,
        expiresInSeconds: config.confirmTokenTtl,
      },
      expiresAt: change.expiresAt,
    },
    now,
  );
  const notice = await prepareChangeNotice(deps, user, newEmail, change.expiresAt, now);
  return { writes: [...change.writes, confirm.write, ...notice.writes], mails: [confirm.row, notice.mail] };
}

/**
 * A new address that already has an account: nothing changes; its owner is told someone tried,
 * and the old address gets the same notice as for a free address.
 */
export async function prepareAddressInUse(deps: Deps, user: UserRow, owner: UserRow, now: number) {
  const { config } = deps;
  const inUse = await queueMail(
    deps,
    { ...recipientOf(owner), template: "email-in-use", data: { appName: config.appName, name: owner.name, loginUrl: config.loginUrl } },
    now,
  );
  const notice = await prepareChangeNotice(deps, user, owner.email, now + config.confirmTokenTtl * 1000, now);
  // A change asked for earlier is void now, as when a free address is asked for: what happens to
  // the earlier link must not tell the requester which kind of address this was.
  return { writes: [voidUserTokens(deps.db, user.id, "change_email", now), inUse.write, ...notice.writes], mails: [inUse.row, notice.mail] };
}

// The address `email` now belongs to an account: registrations still waiting for it can never be
// confirmed, and their links are void.
function claimAddress(db: Db, email: string, now: number) {
  return [
    db.delete(registrations).where(eq(registrations.email, email)),
    db
      .update(emailTokens)
      .set({ usedAt: now })
      .where(and(eq(emailTokens.email, email), eq(emailTokens.purpose, "confirm_email"), isNull(emailTokens.usedAt))),
  ] as const;
}

/**
 * The change confirmed from the new mailbox. Every session but the one that asked ends; links
 * mailed to the old address (reset, unlock, other changes) are void; the old address's undo links
 * now run for EMAIL_CHANGE_UNDO_HOURS from this moment.
 */
export function applyEmailChange(db: Db, user: UserRow, token: EmailTokenRow, client: RequestInfo, now: number) {
  const newEmail = token.email!;
  const keep = token.sessionId;
  const changed = emailChanged(db, user.id, user.email, "confirmed", now);
  const revoked = sessionsRevoked(db, user.id, keep ? { allBut: keep } : "all", "email_changed", now);
  const writes = [
    db.update(users).set({ email: newEmail, updatedAt: now }).where(eq(users.id, user.id)),
    changed.write,
    revoked.write,
    revokeUserSessions(db, user.id, "email_changed", now, keep ? ne(sessions.id, keep) : undefined),
    db.update(emailTokens).set({ usedAt: now }).where(unusedTokensOf(user.id, ["change_email", "reset_password", "unlock_login"])),
    db
      .update(emailTokens)
      .set({ expiresAt: now + EMAIL_CHANGE_UNDO_HOURS * 3600_000 })
      .where(and(unusedTokensOf(user.id, ["revert_email"]), eq(emailTokens.email, user.email))),
    ...claimAddress(db, newEmail, now),
    recordAudit(db, "email_changed", user.id, client, now),
  ] as const;
  return { writes, events: [changed, revoked] };
}

/**
 * The old address's link. Before the change happened it cancels it; after, it restores the old
 * address and ends every session (whoever made the change knows the password). Either way the
 * undo links mailed after this one are void: an attacker who moved the address on and asked for
 * another change cannot undo the owner's undo, while the owner's older links keep working.
 */
export function revertEmailChange(db: Db, user: UserRow, token: EmailTokenRow, client: RequestInfo, now: number) {
  const restored = token.email!;
  const laterUndoLinks = db
    .update(emailTokens)
    .set({ usedAt: now })
    .where(and(unusedTokensOf(user.id, ["revert_email"]), gte(emailTokens.createdAt, token.createdAt)));
  const pendingChanges = db.update(emailTokens).set({ usedAt: now }).where(unusedTokensOf(user.id, ["change_email"]));
  if (user.email === restored) {
    return { reverted: false, writes: [pendingChanges, laterUndoLinks, recordAudit(db, "email_change_cancelled", user.id, client, now)] as const, events: [] };
  }
  const changed = emailChanged(db, user.id, user.email, "reverted", now);
  const revoked = sessionsRevoked(db, user.id, "all", "email_reverted", now);
  return {
    reverted: true,
    writes: [
      db.update(users).set({ email: restored, updatedAt: now }).where(eq(users.id, user.id)),
      changed.write,
      revoked.write,
      revokeUserSessions(db, user.id, "email_reverted", now),
      pendingChanges,
      laterUndoLinks,
      db.update(emailTokens).set({ usedAt: now }).where(unusedTokensOf(user.id, ["reset_password", "unlock_login"])),
      ...claimAddress(db, restored, now),
      recordAudit(db, "email_change_reverted", user.id, client, now),
    ] as const,
    events: [changed, revoked],
  };
}
