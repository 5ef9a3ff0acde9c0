import { and, asc, eq, inArray, isNotNull, isNull, lte, or, sql } from "drizzle-orm";
import { renderEmail, type TemplateData, type TemplateName } from "../../emails/index.ts";
import { outbox, suppressions, type OutboxStatus } from "../db/schema.ts";
import { type CronBudget, unlimitedBudget } from "../lib/cron-budget.ts";
import { randomId } from "../lib/crypto/tokens.ts";
import { seal, unseal } from "../lib/crypto/seal.ts";
import { logEvent } from "../lib/log.ts";
import type { Locale } from "../lib/locale.ts";
import type { MailDeps, OutgoingMail, RenderedMail, SendResult } from "./types.ts";

export const DELIVERY_LEASE_MS = 60_000;
export const DEFAULT_DEADLINE_MS = 24 * 3600_000;
/** Mails per provider call in the cron: Resend's batch endpoint takes up to 100. */
export const MAIL_BATCH = 100;
/** Rows whose earlier call may have delivered them, claimed per cron step (each group is one call). */
const KEYED_ROWS_PER_STEP = 10;
/** Subrequests a cron step may cost: the claim, a call per keyed group and one batch, the outcomes. */
const STEP_SUBREQUESTS = 1 + KEYED_ROWS_PER_STEP + 1 + 1;
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
    payload: await seal(await deps.outboxKey(), JSON.stringify(mail.data), payloadContext({ id, toEmail: mail.to })),
    status: "sending",
    attempts: 1,
    nextAttemptAt: now,
    claimedUntil: now + DELIVERY_LEASE_MS,
    deadlineAt: Math.min(now + DEFAULT_DEADLINE_MS, mail.expiresAt ?? Number.MAX_SAFE_INTEGER),
    lastError: null,
    // The request that wrote the row sends it alone, under the row's id.
    sendKey: id,
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
export function nextAttemptAt(row: Pick<OutboxRow, "attempts" | "deadlineAt">, retryAfterSeconds: number | undefined, now: number, random = Math.random()) {
  const wait = retryAfterSeconds === undefined ? backoffMs(row.attempts, random) : retryAfterSeconds * 1000;
  // An attempt after the deadline only records the failure; it need not wait any longer than that.
  return Math.min(now + wait, row.deadlineAt);
}

/** Delivers one row claimed by the request that wrote it (status 'sending', lease running). */
export async function deliverClaimed(deps: MailDeps, row: OutboxRow): Promise<void> {
  try {
    const suppressed = await deps.db.select().from(suppressions).where(eq(suppressions.email, row.toEmail));
    const step = await prepareDelivery(deps, row, suppressed[0]?.reason);
    const outcome = "mail" in step ? outcomeOfSend(deps, row, await sendOne(deps, step.mail), Math.random()) : step.outcome;
    await recordOutcome(deps, row, outcome).run();
    logOutcome(row, outcome);
  } catch (err) {
    // Most likely the database; the row stays claimed until its lease ends, then the cron retries it.
    logEvent("mail_attempt_error", { outboxId: row.id, error: err instanceof Error ? err.name : "error" });
  }
}

/**
 * Cron: claims what is due, or whose lease ran out because the isolate sending it died, and sends
 * it, step by step until nothing is due or the budget is spent. Returns how many rows it claimed.
 *
 * Each step claims, in one round trip, up to MAIL_BATCH rows that the provider has never accepted
 * for certain (new rows, or refused with a 429 or 4xx), which go out in one batch call under a fresh
 * key; and up to KEYED_ROWS_PER_STEP rows whose last call got no answer or a 5xx, so may have been
 * delivered: each such group repeats its call, under its key, so the provider answers it from the
 * first and nothing is delivered twice. The claim is an UPDATE that re-checks the status, so of two
 * runs (or a run and the request path) only one ever holds a row.
 */
export async function deliverDueMail(deps: MailDeps, budget: CronBudget = unlimitedBudget()): Promise<number> {
  let claimed = 0;
  const pace = pacer(deps);
  while (budget.take(STEP_SUBREQUESTS)) {
    const step = await claimStep(deps);
    claimed += step.fresh.length + step.keyed.length;
    if (step.fresh.length + step.keyed.length === 0) {
      budget.refund(STEP_SUBREQUESTS - 1);
      break;
    }
    const calls = await deliverStep(deps, step, pace);
    budget.refund(STEP_SUBREQUESTS - (2 + calls));
    if (step.fresh.length < MAIL_BATCH && step.keyed.length < KEYED_ROWS_PER_STEP) break;
  }
  return claimed;
}

async function claimStep(deps: MailDeps) {
  const { db, clock } = deps;
  const now = clock.now();
  const claimable = or(
    and(eq(outbox.status, "pending"), lte(outbox.nextAttemptAt, now)),
    and(eq(outbox.status, "sending"), lte(outbox.claimedUntil, now)),
  );
  const claimedUntil = now + DELIVERY_LEASE_MS;
  const claim = { status: "sending" as const, claimedUntil, attempts: sql`${outbox.attempts} + 1`, updatedAt: now };
  const oldestFirst = [asc(outbox.nextAttemptAt), asc(outbox.id)];
  const fresh = db.select({ id: outbox.id }).from(outbox).where(and(claimable, isNull(outbox.sendKey))).orderBy(...oldestFirst).limit(MAIL_BATCH);
  // Whole groups: the rows of one call changed state together, so they are claimable together.
  const keys = db.select({ key: outbox.sendKey }).from(outbox).where(and(claimable, isNotNull(outbox.sendKey))).orderBy(...oldestFirst).limit(KEYED_ROWS_PER_STEP);
  // The key is on the rows before the call is made: should this isolate die during the call, the
  // run that re-claims them repeats it under the same key.
  const batchKey = `outbox-batch/${randomId()}`;
  const [freshRows, keyedRows, suppressed] = await db.batch([
    db.update(outbox).set({ ...claim, sendKey: batchKey }).where(and(inArray(outbox.id, fresh), claimable, isNull(outbox.sendKey))).returning(),
    db.update(outbox).set(claim).where(and(inArray(outbox.sendKey, keys), claimable)).returning(),
    // The suppression entries of the addresses just claimed (rows another run claimed in the same
    // millisecond only add entries nobody looks up).
    db
      .select()
      .from(suppressions)
      .where(
        inArray(
          suppressions.email,
          db.select({ email: outbox.toEmail }).from(outbox).where(and(eq(outbox.status, "sending"), eq(outbox.claimedUntil, claimedUntil))),
        ),
      ),
  ]);
  return { fresh: freshRows, keyed: keyedRows, suppressed: new Map(suppressed.map((s) => [s.email, s.reason])) };
}

// A call per group (the fresh batch, each keyed group), one round trip for every outcome.
/** Returns how many provider calls it made. */
async function deliverStep(deps: MailDeps, step: Awaited<ReturnType<typeof claimStep>>, pace: () => Promise<void>): Promise<number> {
  let calls = 0;
  const groups = new Map<string, OutboxRow[]>();
  for (const row of [...step.fresh, ...step.keyed]) groups.set(row.sendKey!, [...(groups.get(row.sendKey!) ?? []), row]);
  const random = Math.random();
  const outcomes: Array<{ row: OutboxRow; outcome: Outcome }> = [];
  for (const [key, rows] of groups) {
    // In id order, so a repeated call carries the same body as the first.
    rows.sort((a, b) => (a.id < b.id ? -1 : 1));
    const steps = await Promise.all(rows.map((row) => prepareDelivery(deps, row, step.suppressed.get(row.toEmail))));
    const sending = steps.flatMap((s) => ("mail" in s ? [s] : []));
    let results: SendResult[] = [];
    if (sending.length > 0) {
      await pace();
      calls++;
      // A row the request path sent alone is repeated alone: its key is its id.
      const single = sending.length === 1 && key === sending[0]!.row.id;
      results = single ? [await sendOne(deps, sending[0]!.mail)] : await sendMany(deps, sending.map((s) => s.mail), key);
    }
    for (const s of steps) {
      outcomes.push({ row: s.row, outcome: "mail" in s ? outcomeOfSend(deps, s.row, results[sending.indexOf(s)] ?? sdkFailure(null), random) : s.outcome });
    }
  }
  try {
    const writes = outcomes.map(({ row, outcome }) => recordOutcome(deps, row, outcome));
    await deps.db.batch(writes as [(typeof writes)[0], ...typeof writes]);
    for (const { row, outcome } of outcomes) logOutcome(row, outcome);
  } catch (err) {
    // The rows stay claimed until their lease ends; a later run repeats the calls under their keys.
    logEvent("mail_step_error", { rows: outcomes.length, error: err instanceof Error ? err.name : "error" });
  }
  return calls;
}

function sendOne(deps: MailDeps, mail: OutgoingMail): Promise<SendResult> {
  return deps.mailer.send(mail).catch(sdkFailure);
}

function sendMany(deps: MailDeps, mails: OutgoingMail[], key: string): Promise<SendResult[]> {
  return deps.mailer.sendBatch(mails, key).catch((err: unknown) => mails.map(() => sdkFailure(err)));
}

/** Spaces the cron's provider calls to RESEND_REQUESTS_PER_SECOND (Resend allows a team 2 by default). */
function pacer(deps: MailDeps): () => Promise<void> {
  const gapMs = deps.mailer.kind === "dev" ? 0 : 1000 / deps.config.resendRequestsPerSecond;
  let last = Number.NEGATIVE_INFINITY;
  return async () => {
    const wait = last + gapMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    last = Date.now();
  };
}

interface Outcome {
  status: OutboxStatus;
  values: Partial<OutboxRow>;
}

type Step = { row: OutboxRow; mail: OutgoingMail } | { row: OutboxRow; outcome: Outcome };

const givenUp = (lastError: string): Outcome => ({ status: "failed", values: { lastError, payload: null, sendKey: null } });

/** A claimed row's mail, or why it will not be sent (deadline passed, suppressed, unreadable). */
async function prepareDelivery(deps: MailDeps, row: OutboxRow, suppressedFor: string | undefined): Promise<Step> {
  if (deps.clock.now() >= row.deadlineAt) return { row, outcome: givenUp("deadline passed") };
  if (suppressedFor !== undefined) {
    return { row, outcome: { status: "suppressed", values: { lastError: `address suppressed: ${suppressedFor}`, payload: null, sendKey: null } } };
  }
  const rendered = await renderStoredMail(deps, row);
  if (!rendered) return { row, outcome: givenUp("payload unreadable") };
  return { row, mail: { id: row.id, to: row.toEmail, from: deps.config.mailFrom, ...rendered } };
}

function outcomeOfSend(deps: MailDeps, row: OutboxRow, result: SendResult, random: number): Outcome {
  const now = deps.clock.now();
  if (result.ok) {
    // The dev mailbox reads the payload back; a real provider has the mail now, so the token link
    // it holds is dropped.
    const payload = deps.mailer.kind === "dev" ? row.payload : null;
    return { status: "sent", values: { providerId: result.providerId, lastError: null, payload, sendKey: null } };
  }
  if (result.retryable && now < row.deadlineAt) {
    // The key stays only while the call may have delivered the mail: then the retry must repeat it.
    const sendKey = result.maybeDelivered ? row.sendKey : null;
    return { status: "pending", values: { nextAttemptAt: nextAttemptAt(row, result.retryAfterSeconds, now, random), lastError: result.reason, sendKey } };
  }
  return givenUp(result.reason);
}

// Only the holder of this claim records the outcome: a worker whose lease ran out and was
// re-claimed cannot overwrite what the newer claim wrote.
function recordOutcome(deps: MailDeps, row: OutboxRow, outcome: Outcome) {
  // The last mail to a deleted account: once finished, nothing in the row names the address.
  const finished = outcome.status !== "pending";
  const forget: Partial<OutboxRow> = row.forgetRecipient && finished ? { toEmail: ERASED_RECIPIENT, userId: null, payload: null } : {};
  return deps.db
    .update(outbox)
    .set({ ...outcome.values, ...forget, status: outcome.status, claimedUntil: null, updatedAt: deps.clock.now() })
    .where(and(eq(outbox.id, row.id), eq(outbox.status, "sending"), eq(outbox.claimedUntil, row.claimedUntil ?? -1)));
}

// A sent mail is on record in its row (status, provider id); only what went wrong is logged.
function logOutcome(row: OutboxRow, outcome: Outcome): void {
  if (outcome.status === "sent") return;
  logEvent("mail_attempt", { outboxId: row.id, template: row.template, attempts: row.attempts, status: outcome.status, reason: outcome.values.lastError ?? null });
}

// The SDK reports failures as values; an exception is its bug, or no answer at all.
function sdkFailure(err: unknown): SendResult {
  return { ok: false, retryable: true, maybeDelivered: true, reason: err instanceof Error ? err.name : "error" };
}

/**
 * The mail a row will send (delivery) or sent (the dev mailbox). Null once the payload is gone or
 * cannot be opened: sealed with another key (rotated pepper) or for another row or recipient, or for
 * a template that no longer exists; such a row never will send.
 */
export async function renderStoredMail(deps: Pick<MailDeps, "outboxKey">, row: OutboxRow): Promise<RenderedMail | null> {
  if (row.payload === null) return null;
  try {
    const data = JSON.parse(await unseal(await deps.outboxKey(), row.payload, payloadContext(row))) as TemplateData[TemplateName];
    return renderEmail(row.template as TemplateName, data, row.locale as Locale);
  } catch {
    return null;
  }
}
