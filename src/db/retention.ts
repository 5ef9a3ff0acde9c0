import { and, inArray, isNotNull, lt, notInArray, or } from "drizzle-orm";
import type { Db } from "./client.ts";
import {
  auditEvents,
  emailTokens,
  mfaTokens,
  outbox,
  refreshTokens,
  registrations,
  sessions,
  webhookAttempts,
  webhookDeliveries,
  webhookEvents,
  webhookMessages,
} from "./schema.ts";

const DAY_MS = 24 * 3600_000;

export const RETENTION = {
  /** Long enough for the owner (GET /v1/me/events) and an investigation to look back. */
  auditEventsMs: 90 * DAY_MS,
  /** Spent or expired tokens, ended sessions, finished mail: kept a while for support questions. */
  spentMs: 30 * DAY_MS,
  /** Resend retries a webhook for about three days; a repeat after that cannot arrive. */
  webhookIdsMs: 7 * DAY_MS,
  /** Outbound webhook messages (for replay) and every delivery attempt. */
  webhookLogMs: 30 * DAY_MS,
};

const FINISHED_MAIL = ["sent", "delivered", "delayed", "bounced", "complained", "failed", "suppressed"] as const;

// Cron housekeeping: rows nothing will read again, so tables do not grow without bound. One batch,
// one round trip.
export function pruneExpiredRows(db: Db, now: number) {
  const spent = now - RETENTION.spentMs;
  const endedSessions = db
    .select({ id: sessions.id })
    .from(sessions)
    .where(or(lt(sessions.expiresAt, spent), and(isNotNull(sessions.revokedAt), lt(sessions.revokedAt, spent))));
  const waiting = db.select({ id: webhookDeliveries.messageId }).from(webhookDeliveries).where(inArray(webhookDeliveries.status, ["pending", "sending"]));
  const oldMessages = db
    .select({ id: webhookMessages.id })
    .from(webhookMessages)
    .where(and(lt(webhookMessages.occurredAt, now - RETENTION.webhookLogMs), notInArray(webhookMessages.id, waiting)));
  return db.batch([
    db.delete(auditEvents).where(lt(auditEvents.createdAt, now - RETENTION.auditEventsMs)),
    db.delete(emailTokens).where(lt(emailTokens.expiresAt, spent)),
    // mfa_tokens and WebAuthn challenges live minutes; nothing reads them once expired.
    db.delete(mfaTokens).where(lt(mfaTokens.expiresAt, now)),
    // Rotated tokens stay while their session lives: presenting one again is how reuse is caught.
    db.delete(refreshTokens).where(or(inArray(refreshTokens.sessionId, endedSessions), lt(refreshTokens.expiresAt, spent))),
    db.delete(sessions).where(inArray(sessions.id, endedSessions)),
    db.delete(outbox).where(and(inArray(outbox.status, [...FINISHED_MAIL]), lt(outbox.updatedAt, spent))),
    db.delete(webhookEvents).where(lt(webhookEvents.receivedAt, now - RETENTION.webhookIdsMs)),
    // A registration nobody confirmed in time holds a password hash for no one: it goes at once.
    db.delete(registrations).where(lt(registrations.expiresAt, now)),
    // Outbound webhooks: attempts after 30 days; messages (and their deliveries) after 30 days
    // unless a replay has queued them again.
    db.delete(webhookAttempts).where(lt(webhookAttempts.createdAt, now - RETENTION.webhookLogMs)),
    db.delete(webhookDeliveries).where(inArray(webhookDeliveries.messageId, oldMessages)),
    db.delete(webhookMessages).where(and(lt(webhookMessages.occurredAt, now - RETENTION.webhookLogMs), notInArray(webhookMessages.id, waiting))),
  ]);
}
