import { and, eq, inArray, lte, or, sql } from "drizzle-orm";
import { renderEmail, type TemplateData, type TemplateName } from "../../emails/index.ts";
import { outbox, suppressions } from "../db/schema.ts";
import type { Deps } from "../http/context.ts";
import { randomId } from "../lib/crypto/tokens.ts";
import { seal, unseal } from "../lib/crypto/seal.ts";
import { logEvent } from "../lib/log.ts";
import type { Locale, SendResult } from "./types.ts";

export const DELIVERY_LEASE_MS = 60_000;
export const DEFAULT_DEADLINE_MS = 24 * 3600_000;
const CRON_BATCH = 25;

export interface MailRequest<T extends TemplateName> {
  userId: string | null;
  to: string;
  template: T;
  data: TemplateData[T];
  locale: Locale;
  /** A mail carrying a token is useless after the token expires. */
  expiresAt?: number;
}

type OutboxRow = typeof outbox.$inferSelect;

// The outbox row is written in the caller's batch together with the change that causes the mail,
// already claimed by this request, so delivery right after the response needs no extra claim.
export async function queueMail<T extends TemplateName>(deps: Deps, mail: MailRequest<T>, now: number) {
  const row: OutboxRow = {
    id: randomId(),
    userId: mail.userId,
    toEmail: mail.to,
    template: mail.template,
    locale: mail.locale,
    payload: await seal(deps.outboxKey, JSON.stringify(mail.data)),
    status: "sending",
    attempts: 1,
    nextAttemptAt: now,
    claimedUntil: now + DELIVERY_LEASE_MS,
    deadlineAt: Math.min(now + DEFAULT_DEADLINE_MS, mail.expiresAt ?? Number.MAX_SAFE_INTEGER),
    lastError: null,
    providerId: null,
    createdAt: now,
    updatedAt: now,
  };
  return { row, write: deps.db.insert(outbox).values(row) };
}

export function backoffMs(attempts: number, random = Math.random()): number {
  const base = Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3600_000);
  return Math.round(base * (0.8 + 0.4 * random));
}

// Sends one claimed row and records the outcome. Only the claim holder (status 'sending') may
// finish it, so a late duplicate worker cannot overwrite a newer state.
export async function deliverClaimed(deps: Deps, row: OutboxRow): Promise<void> {
  const { db, clock, config, mailer } = deps;
  const finish = (values: Partial<OutboxRow>) =>
    db
      .update(outbox)
      .set({ ...values, claimedUntil: null, updatedAt: clock.now() })
      .where(and(eq(outbox.id, row.id), eq(outbox.status, "sending")));

  if (clock.now() >= row.deadlineAt) {
    await finish({ status: "failed", lastError: "deadline passed", payload: null });
    return;
  }
  const suppressed = await db.select().from(suppressions).where(eq(suppressions.email, row.toEmail)).limit(1);
  if (suppressed.length > 0) {
    await finish({ status: "suppressed", lastError: `address suppressed: ${suppressed[0]!.reason}`, payload: null });
    return;
  }
  if (row.payload === null) {
    await finish({ status: "failed", lastError: "payload missing" });
    return;
  }
  const data = JSON.parse(await unseal(deps.outboxKey, row.payload));
  const rendered = await renderEmail(row.template as TemplateName, data, row.locale as Locale);
  const result: SendResult = await mailer
    .send({ id: row.id, to: row.toEmail, from: config.mailFrom, ...rendered })
    .catch((err: unknown): SendResult => ({ ok: false, retryable: true, reason: err instanceof Error ? err.name : "error" }));
  const now = clock.now();
  if (result.ok) {
    // The dev mailbox reads the payload back; a real provider has it now, so it is dropped here.
    await finish({ status: "sent", providerId: result.providerId, lastError: null, payload: mailer.kind === "dev" ? row.payload : null });
  } else if (result.retryable && now < row.deadlineAt) {
    const wait = result.retryAfterSeconds ? result.retryAfterSeconds * 1000 : backoffMs(row.attempts);
    await finish({ status: "pending", nextAttemptAt: now + wait, lastError: result.reason });
  } else {
    await finish({ status: "failed", lastError: result.reason, payload: null });
  }
  logEvent("mail_attempt", { outboxId: row.id, template: row.template, ok: result.ok, attempts: row.attempts });
}

// Cron: claim what is due (or whose claim expired because an isolate died mid-send) and deliver it.
export async function deliverDueMail(deps: Deps): Promise<number> {
  const { db, clock } = deps;
  const now = clock.now();
  const due = db
    .select({ id: outbox.id })
    .from(outbox)
    .where(
      or(
        and(eq(outbox.status, "pending"), lte(outbox.nextAttemptAt, now)),
        and(eq(outbox.status, "sending"), lte(outbox.claimedUntil, now)),
      ),
    )
    .limit(CRON_BATCH);
  const claimed = await db
    .update(outbox)
    .set({ status: "sending", claimedUntil: now + DELIVERY_LEASE_MS, attempts: sql`${outbox.attempts} + 1`, updatedAt: now })
    .where(
      and(
        inArray(outbox.id, due),
        or(eq(outbox.status, "pending"), and(eq(outbox.status, "sending"), lte(outbox.claimedUntil, now))),
      ),
    )
    .returning();
  for (const row of claimed) await deliverClaimed(deps, row);
  return claimed.length;
}
