import { and, asc, eq, inArray, lte, or, sql } from "drizzle-orm";
import { renderEmail, type TemplateData, type TemplateName } from "../../emails/index.ts";
import { outbox, suppressions, type OutboxStatus } from "../db/schema.ts";
import { randomId } from "../lib/crypto/tokens.ts";
import { seal, unseal } from "../lib/crypto/seal.ts";
import { logEvent } from "../lib/log.ts";
import type { Locale } from "../lib/locale.ts";
import type { MailDeps, RenderedMail, SendResult } from "./types.ts";

export const DELIVERY_LEASE_MS = 60_000;
export const DEFAULT_DEADLINE_MS = 24 * 3600_000;
// One cron run costs 2 subrequests (claim, suppression lookup) plus 2 per mail (send, outcome):
// 15 mails are 32 of the 50 subrequests a Workers Free invocation may make, which the cron shares
// with webhook delivery and housekeeping (src/index.ts).
export const CRON_BATCH = 15;
/** What a finished row with forgetRecipient holds instead of the address. */
export const ERASED_RECIPIENT = "(erased)";

export interface MailRequest<T extends TemplateName> {
  userId: string | null;
  to: string;
  template: T;
  data: TemplateData[T];
  locale: Locale;
  /** A mail carrying a token is useless after the token expires. */
  expiresAt?: number;
  /** Erase the recipient once the mail is finished (the account it was about is gone). */
  forgetRecipient?: boolean;
}

export type OutboxRow = typeof outbox.$inferSelect;

/**
 * What a row's payload is sealed to: the row and its recipient. Someone who can write the database
 * but lacks the key can neither copy a waiting reset link into a row of their own nor readdress it.
 */
export function payloadContext(row: Pick<OutboxRow, "id" | "toEmail">): string {
  return `${row.id}\n${row.toEmail}`;
}

// The outbox row is written in the caller's batch together with the change that causes the mail,
// already claimed by this request, so delivery right after the response needs no extra claim.
export async function queueMail<T extends TemplateName>(deps: MailDeps, mail: MailRequest<T>, now: number) {
  const id = randomId();
  const row: OutboxRow = {
    id,
    userId: mail.userId,
    toEmail: mail.to,
    template: mail.template,
    locale: mail.locale,
    payload: await seal(deps.outboxKey, JSON.stringify(mail.data), payloadContext({ id, toEmail: mail.to })),
    status: "sending",
    attempts: 1,
    nextAttemptAt: now,
    claimedUntil: now + DELIVERY_LEASE_MS,
    deadlineAt: Math.min(now + DEFAULT_DEADLINE_MS, mail.expiresAt ?? Number.MAX_SAFE_INTEGER),
    lastError: null,
    providerId: null,
    forgetRecipient: mail.forgetRecipient ?? false,
    createdAt: now,
    updatedAt: now,
  };
  return { row, write: deps.db.insert(outbox).values(row) };
}

/** Exponential from 30 s, capped at an hour, with ±20 % jitter so failed mails do not retry in step. */
export function backoffMs(attempts: number, random = Math.random()): number {
  const base = Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3600_000);
  return Math.round(base * (0.8 + 0.4 * random));
}

/** When a mail that failed for a passing reason is tried again. */
export function nextAttemptAt(row: Pick<OutboxRow, "attempts" | "deadlineAt">, retryAfterSeconds: number | undefined, now: number) {
  const wait = retryAfterSeconds === undefined ? backoffMs(row.attempts) : retryAfterSeconds * 1000;
  // An attempt after the deadline only records the failure; it need not wait any longer than that.
  return Math.min(now + wait, row.deadlineAt);
}

/** Delivers one row claimed by the request that wrote it (status 'sending', lease running). */
export async function deliverClaimed(deps: MailDeps, row: OutboxRow): Promise<void> {
  await deliverRows(deps, [row]);
}

// Cron: claim what is due, or whose lease ran out because the isolate sending it died, and deliver
// it. The claim is one UPDATE that re-checks the status, so of two runs (or a run and the request
// path) only one ever holds a row.
export async function deliverDueMail(deps: MailDeps): Promise<number> {
  const { db, clock } = deps;
  const now = clock.now();
  const claimable = or(
    and(eq(outbox.status, "pending"), lte(outbox.nextAttemptAt, now)),
    and(eq(outbox.status, "sending"), lte(outbox.claimedUntil, now)),
  );
  const due = db.select({ id: outbox.id }).from(outbox).where(claimable).orderBy(asc(outbox.nextAttemptAt)).limit(CRON_BATCH);
  const claimed = await db
    .update(outbox)
    .set({ status: "sending", claimedUntil: now + DELIVERY_LEASE_MS, attempts: sql`${outbox.attempts} + 1`, updatedAt: now })
    .where(and(inArray(outbox.id, due), claimable))
    .returning();
  await deliverRows(deps, claimed);
  return claimed.length;
}

async function deliverRows(deps: MailDeps, rows: OutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  const addresses = [...new Set(rows.map((row) => row.toEmail))];
  const suppressed = await deps.db.select().from(suppressions).where(inArray(suppressions.email, addresses));
  const reasons = new Map(suppressed.map((s) => [s.email, s.reason]));
  await Promise.all(rows.map((row) => deliverRow(deps, row, reasons.get(row.toEmail))));
}

async function deliverRow(deps: MailDeps, row: OutboxRow, suppressedFor: string | undefined): Promise<void> {
  const { db, clock, config, mailer } = deps;
  // Only the holder of this claim records the outcome: a worker whose lease ran out and was
  // re-claimed cannot overwrite what the newer claim wrote.
  const finish = async (status: OutboxStatus, values: Partial<OutboxRow> = {}) => {
    // The last mail to a deleted account: once finished, nothing in the row names the address.
    const forget: Partial<OutboxRow> = row.forgetRecipient ? { toEmail: ERASED_RECIPIENT, userId: null, payload: null } : {};
    await db
      .update(outbox)
      .set({ ...values, ...forget, status, claimedUntil: null, updatedAt: clock.now() })
      .where(and(eq(outbox.id, row.id), eq(outbox.status, "sending"), eq(outbox.claimedUntil, row.claimedUntil ?? -1)));
    logEvent("mail_attempt", { outboxId: row.id, template: row.template, attempts: row.attempts, status, reason: values.lastError ?? null });
  };

  try {
    if (clock.now() >= row.deadlineAt) return await finish("failed", { lastError: "deadline passed", payload: null });
    if (suppressedFor !== undefined) {
      return await finish("suppressed", { lastError: `address suppressed: ${suppressedFor}`, payload: null });
    }
    const rendered = await renderStoredMail(deps, row);
    if (!rendered) return await finish("failed", { lastError: "payload unreadable", payload: null });

    const result: SendResult = await mailer
      .send({ id: row.id, to: row.toEmail, from: config.mailFrom, ...rendered })
      .catch((err: unknown): SendResult => ({ ok: false, retryable: true, reason: err instanceof Error ? err.name : "error" }));
    const now = clock.now();
    if (result.ok) {
      // The dev mailbox reads the payload back; a real provider has the mail now, so the token
      // link it holds is dropped.
      return await finish("sent", { providerId: result.providerId, lastError: null, payload: mailer.kind === "dev" ? row.payload : null });
    }
    if (result.retryable && now < row.deadlineAt) {
      return await finish("pending", { nextAttemptAt: nextAttemptAt(row, result.retryAfterSeconds, now), lastError: result.reason });
    }
    return await finish("failed", { lastError: result.reason, payload: null });
  } catch (err) {
    // Most likely the database; the row stays claimed until its lease ends, then the cron retries it.
    logEvent("mail_attempt_error", { outboxId: row.id, error: err instanceof Error ? err.name : "error" });
  }
}

/**
 * The mail a row will send (delivery) or sent (the dev mailbox). Null once the payload is gone or
 * cannot be opened: sealed with another key (rotated pepper) or for another row or recipient, or for
 * a template that no longer exists; such a row never will send.
 */
export async function renderStoredMail(deps: Pick<MailDeps, "outboxKey">, row: OutboxRow): Promise<RenderedMail | null> {
  if (row.payload === null) return null;
  try {
    const data = JSON.parse(await unseal(deps.outboxKey, row.payload, payloadContext(row))) as TemplateData[TemplateName];
    return renderEmail(row.template as TemplateName, data, row.locale as Locale);
  } catch {
    return null;
  }
}
