import { and, inArray, isNotNull, lt, notInArray, or } from "drizzle-orm";
import type { CronBudget } from "../lib/cron-budget.ts";
import type { Db } from "./client.ts";
import { DELETE_CHUNK, deleteInChunks } from "./chunked-delete.ts";
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

// Cron housekeeping: rows nothing will read again, so tables do not grow without bound. Each kind
// goes in chunks (src/db/chunked-delete.ts), so a backlog of millions never holds the write lock for
// long; what the budget leaves undone, the next run continues.
export async function pruneExpiredRows(db: Db, now: number, budget: CronBudget): Promise<void> {
  const spent = now - RETENTION.spentMs;
  await pruneEndedSessions(db, spent, budget);
  // Rotated tokens stay while their session lives (presenting one again is how reuse is caught);
  // expired ones go whatever their session.
  await deleteInChunks(db, refreshTokens, lt(refreshTokens.expiresAt, spent), budget);
  await deleteInChunks(db, auditEvents, lt(auditEvents.createdAt, now - RETENTION.auditEventsMs), budget);
  await deleteInChunks(db, emailTokens, lt(emailTokens.expiresAt, spent), budget);
  // mfa_tokens and WebAuthn challenges live minutes; nothing reads them once expired.
  await deleteInChunks(db, mfaTokens, lt(mfaTokens.expiresAt, now), budget);
  await deleteInChunks(db, outbox, and(inArray(outbox.status, [...FINISHED_MAIL]), lt(outbox.updatedAt, spent)), budget);
  await deleteInChunks(db, webhookEvents, lt(webhookEvents.receivedAt, now - RETENTION.webhookIdsMs), budget);
  // A registration nobody confirmed in time holds a password hash for no one: it goes at once.
  await deleteInChunks(db, registrations, lt(registrations.expiresAt, now), budget);
  // Outbound webhooks: attempts after 30 days; messages (and their deliveries) after 30 days
  // unless a replay has queued them again.
  await deleteInChunks(db, webhookAttempts, lt(webhookAttempts.createdAt, now - RETENTION.webhookLogMs), budget);
  await pruneOldWebhookMessages(db, now, budget);
}

// Like sessions: a chunk of old messages nothing waits on is read, then they and their deliveries go.
async function pruneOldWebhookMessages(db: Db, now: number, budget: CronBudget): Promise<void> {
  const waiting = db.select({ id: webhookDeliveries.messageId }).from(webhookDeliveries).where(inArray(webhookDeliveries.status, ["pending", "sending"]));
  const old = and(lt(webhookMessages.occurredAt, now - RETENTION.webhookLogMs), notInArray(webhookMessages.id, waiting));
  while (budget.take(2)) {
    const ids = (await db.select({ id: webhookMessages.id }).from(webhookMessages).where(old).limit(DELETE_CHUNK)).map((row) => row.id);
    if (ids.length === 0) break;
    await db.batch([db.delete(webhookDeliveries).where(inArray(webhookDeliveries.messageId, ids)), db.delete(webhookMessages).where(inArray(webhookMessages.id, ids))]);
    if (ids.length < DELETE_CHUNK) break;
  }
}

// A chunk of ended sessions is read first (no lock), then it and its refresh tokens go in one batch.
async function pruneEndedSessions(db: Db, spent: number, budget: CronBudget): Promise<void> {
  const ended = or(lt(sessions.expiresAt, spent), and(isNotNull(sessions.revokedAt), lt(sessions.revokedAt, spent)));
  while (budget.take(2)) {
    const ids = (await db.select({ id: sessions.id }).from(sessions).where(ended).limit(DELETE_CHUNK)).map((row) => row.id);
    if (ids.length === 0) break;
    await db.batch([db.delete(refreshTokens).where(inArray(refreshTokens.sessionId, ids)), db.delete(sessions).where(inArray(sessions.id, ids))]);
    if (ids.length < DELETE_CHUNK) break;
  }
}
