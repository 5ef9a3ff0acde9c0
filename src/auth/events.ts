import { and, asc, eq, exists, gt, isNull, ne, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { jsonObjectSql, type JsonField } from "../db/json.ts";
import { sessions, users, webhookMessages } from "../db/schema.ts";
import type { WebhookEventType } from "../lib/webhook-events.ts";
import { newMessageId } from "../webhooks/messages.ts";
import type { EmittedEvent } from "../webhooks/types.ts";
import { userJsonSql } from "./identity.ts";
import type { Amr } from "./sessions.ts";

// The outbound webhook events (README, "Integrations"), one function each. Each returns an insert
// for the batch of the change it reports, so the event is committed exactly when the change is,
// with no round trip of its own; commit the batch with commitWithEvents (src/http/), which fans the
// events out to the endpoints. `data` holds the user's public fields (toUserJson) as the batch has
// them at the event's place in it, and the event's own fields; never a hash, token or secret.
// Place an event after the change for creations and updates, before it for deletions and session
// revocations (which read what is about to go).

export type SessionCreatedReason = "login" | "confirm" | "password_change";
export type SessionRevokedReason =
  | "logout"
  | "logout_all"
  | "ended_by_owner"
  | "password_reset"
  | "password_changed"
  | "email_changed"
  | "email_reverted"
  | "refresh_reuse"
  | "user_disabled"
  | "user_deleted"
  | "admin";

// The events of an account being erased name it by its id alone: they are the only record of the
// person that outlives the erasure (src/auth/erase-account.ts), so they must hold nothing personal.
const userIdJsonSql = sql<string>`json_object('id', ${users.id})`;

/**
 * The message insert: nothing is written when the user does not exist at this point of the batch,
 * or when `onlyIf` does not hold (e.g. the caller's session has already ended).
 */
function userEvent(
  db: Db,
  type: WebhookEventType,
  userId: string,
  fields: Record<string, JsonField>,
  now: number,
  onlyIf?: SQL,
  user: SQL = userJsonSql,
): EmittedEvent {
  const id = newMessageId();
  const write = db.insert(webhookMessages).select(
    db
      .select({
        seq: sql<null>`null`.as("seq"),
        id: sql<string>`${id}`.as("id"),
        type: sql<string>`${type}`.as("type"),
        userId: users.id,
        data: jsonObjectSql({ user, ...fields }).as("data"),
        occurredAt: sql<number>`${now}`.as("occurred_at"),
      })
      .from(users)
      .where(and(eq(users.id, userId), onlyIf)),
  );
  return { id, type, write };
}

/** An account exists: at confirmation, when the users row is inserted (registrations are not users). */
export function userCreated(db: Db, userId: string, now: number) {
  return userEvent(db, "user.created", userId, {}, now);
}

/** The address was confirmed with the mailed token (today in the same batch as user.created). */
export function userConfirmed(db: Db, userId: string, now: number) {
  return userEvent(db, "user.confirmed", userId, {}, now);
}

/** Public fields changed; `changed` names them (e.g. ["name", "locale"]). */
export function userUpdated(db: Db, userId: string, changed: string[], now: number) {
  return userEvent(db, "user.updated", userId, { changed }, now);
}

export function userDisabled(db: Db, userId: string, reason: string | null, now: number) {
  return userEvent(db, "user.disabled", userId, { reason }, now);
}

/** `user` holds the id alone. Place it before the delete (it is written only while the user exists). */
export function userDeleted(db: Db, userId: string, now: number) {
  return userEvent(db, "user.deleted", userId, {}, now, undefined, userIdJsonSql);
}

/** `amr` says how the session was opened: pwd, otp (authenticator app or recovery code), hwk (passkey). */
export function sessionCreated(db: Db, userId: string, session: { sessionId: string; amr: Amr }, reason: SessionCreatedReason, now: number) {
  return userEvent(db, "session.created", userId, { session_id: session.sessionId, amr: session.amr, reason }, now);
}

/**
 * Sessions ended: one session, all of the user's, or all but one. Place it before the revocation:
 * it lists the sessions still live at that point (session_ids, oldest first), and is not written
 * when there are none, nor when `onlyIf` does not hold. For user_deleted, `user` holds the id alone.
 */
export function sessionsRevoked(
  db: Db,
  userId: string,
  which: { sessionId: string } | { allBut: string } | "all",
  reason: SessionRevokedReason,
  now: number,
  onlyIf?: SQL,
) {
  const live = and(
    eq(sessions.userId, userId),
    which === "all" ? undefined : "allBut" in which ? ne(sessions.id, which.allBut) : eq(sessions.id, which.sessionId),
    isNull(sessions.revokedAt),
    gt(sessions.expiresAt, now),
  );
  const ids = db.select({ id: sessions.id }).from(sessions).where(live).orderBy(asc(sessions.createdAt), asc(sessions.id));
  const sessionIds = sql`json((select json_group_array(id) from (${ids})))`;
  const user = reason === "user_deleted" ? userIdJsonSql : userJsonSql;
  return userEvent(db, "session.revoked", userId, { session_ids: sessionIds, reason }, now, and(exists(ids), onlyIf), user);
}

/** A password set through a mailed reset link. */
export function passwordReset(db: Db, userId: string, now: number) {
  return userEvent(db, "password.reset", userId, {}, now);
}

/** A password changed by its owner, who gave the current one. */
export function passwordChanged(db: Db, userId: string, now: number) {
  return userEvent(db, "password.changed", userId, {}, now);
}

/**
 * Place it after the change: `user.email` is the new address. `reason`: confirmed from the new
 * mailbox, or reverted from the old one (whoever made the change may have the password).
 */
export function emailChanged(db: Db, userId: string, previousEmail: string, reason: "confirmed" | "reverted", now: number) {
  return userEvent(db, "email.changed", userId, { previous_email: previousEmail, reason }, now);
}

/** `method`: totp or passkey (or all, for a reset of every factor). */
export function mfaEnabled(db: Db, userId: string, method: string, now: number) {
  return userEvent(db, "mfa.enabled", userId, { method }, now);
}

export function mfaDisabled(db: Db, userId: string, method: string, now: number) {
  return userEvent(db, "mfa.disabled", userId, { method }, now);
}
