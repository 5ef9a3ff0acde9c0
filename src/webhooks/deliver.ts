import { and, asc, count, eq, exists, inArray, lte, or, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookMessages } from "../db/schema.ts";
import type { CronBudget } from "../lib/cron-budget.ts";
import { logEvent } from "../lib/log.ts";
import { webhookUrlProblem } from "../lib/webhook-url.ts";
import { configuredStateRow, storedSecrets, urlPolicy } from "./endpoints.ts";
import { postMessage, type AttemptResult } from "./send.ts";
import type { ConfiguredEndpoint, DeliveryRow, EndpointRow, WebhookDeps } from "./types.ts";

// Delivery, right after the response (the deliveries a request fanned out) and from the cron (what
// is due). Like the mail outbox: a claim is one UPDATE that re-checks the status and sets a lease,
// so of two runs only one holds a delivery; only the holder of the lease records the outcome; a
// run that dies leaves its deliveries to the cron once the lease ends. A receiver may therefore see
// a message twice (its answer was lost, or the run died after sending), always with the same
// webhook-id: that is the key it dedupes on.

export const WEBHOOK_LEASE_MS = 2 * 60_000;
/** Standard Webhooks' schedule: the wait after the 1st, 2nd, … failed attempt; after the 8th, none. */
export const RETRY_SCHEDULE_MS = [5_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 5 * 3600_000, 10 * 3600_000, 10 * 3600_000];
/** A Retry-After longer than this is not waited for in full. */
export const MAX_RETRY_AFTER_MS = 24 * 3600_000;
/** An endpoint whose every attempt failed for this long is disabled. */
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * 3600_000;
/** A Worker invocation keeps at most 6 connections open at once; more would only queue. */
export const WEBHOOK_CONCURRENCY = 6;
/**
 * Deliveries claimed at once by the cron: one subrequest to claim, one per delivery, one to record.
 * Two waves of 6 connections, so even a round of timeouts (2 × 15 s) ends well inside the lease.
 */
export const WEBHOOK_CRON_BATCH = 12;

export interface DeliveryReport {
  claimed: number;
  succeeded: number;
  retrying: number;
  failed: number;
  /** Deliveries that were due but left for the next run (cron only; 0 after a response). */
  left: number;
}

/** The wait before the next attempt after `attempts` failed ones, ±20 % so retries do not move in step; null: give up. */
export function retryDelayMs(attempts: number, random = Math.random()): number | null {
  const base = RETRY_SCHEDULE_MS[attempts - 1];
  return base === undefined ? null : Math.round(base * (0.8 + 0.4 * random));
}

const d = webhookDeliveries;
const e = webhookEndpoints;

function claimable(now: number) {
  return or(and(eq(d.status, "pending"), lte(d.nextAttemptAt, now)), and(eq(d.status, "sending"), lte(d.claimedUntil, now)));
}

/** After the response: the deliveries this request fanned out. */
export function deliverWebhooks(deps: WebhookDeps, deliveryIds: number[]): Promise<DeliveryReport> {
  return run(deps, () => inArray(d.id, deliveryIds), false);
}

/** Cron: up to `limit` due deliveries, oldest due first; logs and returns how many it left. */
export async function deliverDueWebhooks(deps: WebhookDeps, limit = WEBHOOK_CRON_BATCH): Promise<DeliveryReport> {
  const due = (now: number) =>
    inArray(d.id, deps.db.select({ id: d.id }).from(d).where(claimable(now)).orderBy(asc(d.nextAttemptAt), asc(d.id)).limit(limit));
  const report = await run(deps, due, true);
  if (report.claimed > 0 || report.left > 0) logEvent("webhook_cron", { ...report });
  return report;
}

/**
 * Cron: rounds of deliverDueWebhooks while the run's share of subrequests and time lasts, so a
 * backlog (an endpoint back after an outage, a large replay) drains at the budget's pace rather than
 * one round a minute. What is left is reported by the last round.
 */
export async function drainDueWebhooks(deps: WebhookDeps, budget: CronBudget): Promise<DeliveryReport> {
  const total: DeliveryReport = { claimed: 0, succeeded: 0, retrying: 0, failed: 0, left: 0 };
  for (;;) {
    const size = Math.min(WEBHOOK_CRON_BATCH, budget.left - 2);
    if (size < 1 || !budget.take(size + 2)) break;
    const round = await deliverDueWebhooks(deps, size);
    budget.refund(size - round.claimed);
    total.claimed += round.claimed;
    total.succeeded += round.succeeded;
    total.retrying += round.retrying;
    total.failed += round.failed;
    total.left = round.left;
    if (round.claimed === 0 || round.left === 0) break;
  }
  return total;
}

interface Target {
  id: string;
  url: string;
  secrets: string[];
  /** Set for a WEBHOOK_ENDPOINTS entry, whose state row may not exist yet. */
  configured: ConfiguredEndpoint | null;
}

type Outcome = { delivery: DeliveryRow; target: Target; result: AttemptResult } | { delivery: DeliveryRow; skipped: string };

async function run(deps: WebhookDeps, scope: (now: number) => SQL | undefined, countLeft: boolean): Promise<DeliveryReport> {
  const { db, clock } = deps;
  const now = clock.now();
  const leaseEnd = now + WEBHOOK_LEASE_MS;
  const claimedHere = and(eq(d.status, "sending"), eq(d.claimedUntil, leaseEnd));
  // One round trip: the claim, what the claimed deliveries need, and what stays due.
  const [claimed, messages, endpoints, [left]] = await db.batch([
    db
      .update(d)
      .set({ status: "sending", claimedUntil: leaseEnd, attempts: sql`${d.attempts} + 1`, updatedAt: now })
      .where(and(scope(now), claimable(now)))
      .returning(),
    db.select().from(webhookMessages).where(inArray(webhookMessages.id, db.select({ id: d.messageId }).from(d).where(claimedHere))),
    db.select().from(e).where(inArray(e.id, db.select({ id: d.endpointId }).from(d).where(claimedHere))),
    db.select({ n: count() }).from(d).where(countLeft ? claimable(now) : sql`0`),
  ]);
  const report: DeliveryReport = { claimed: claimed.length, succeeded: 0, retrying: 0, failed: 0, left: left?.n ?? 0 };
  if (claimed.length === 0) return report;

  const messageById = new Map(messages.map((m) => [m.id, m]));
  const endpointById = new Map(endpoints.map((row) => [row.id, row]));
  const outcomes = await inPool(claimed, WEBHOOK_CONCURRENCY, async (delivery): Promise<Outcome> => {
    const message = messageById.get(delivery.messageId);
    if (!message) return { delivery, skipped: "message no longer kept" };
    const target = await resolveTarget(deps, delivery.endpointId, endpointById.get(delivery.endpointId), now);
    if (typeof target === "string") return { delivery, skipped: target };
    return { delivery, target, result: await postMessage(deps, target, message) };
  });
  await db.batch(recordOutcomes(deps, outcomes, report) as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  return report;
}

/** Where a delivery goes and with which secrets; a string says why it cannot go anywhere. */
async function resolveTarget(deps: WebhookDeps, endpointId: string, row: EndpointRow | undefined, now: number): Promise<Target | string> {
  const configured = deps.webhookEndpoints.find((entry) => entry.id === endpointId) ?? null;
  let target: Target;
  if (configured) {
    target = { id: endpointId, url: configured.url, secrets: [configured.secret], configured };
  } else if (row?.source === "api") {
    target = { id: endpointId, url: row.url, secrets: await storedSecrets(deps, row, now), configured: null };
    if (target.secrets.length === 0) return "endpoint secret unreadable";
  } else {
    return endpointId.startsWith("cfg_") ? "endpoint no longer in WEBHOOK_ENDPOINTS" : "endpoint deleted";
  }
  if (row && !row.enabled) return `endpoint disabled: ${row.disabledReason ?? "no reason recorded"}`;
  // Checked again at each send: the rules (or the environment) may have changed since it was stored.
  const problem = webhookUrlProblem(target.url, urlPolicy(deps));
  return problem ? `endpoint url ${problem}` : target;
}

function recordOutcomes(deps: WebhookDeps, outcomes: Outcome[], report: DeliveryReport): BatchItem<"sqlite">[] {
  const { db } = deps;
  const now = deps.clock.now();
  const writes: BatchItem<"sqlite">[] = [];
  const failing = new Map<string, Target>();
  for (const outcome of outcomes) {
    const { delivery } = outcome;
    // Only the holder of this claim records: a run whose lease ran out and was re-claimed cannot
    // overwrite what the newer claim wrote.
    const held = and(eq(d.id, delivery.id), eq(d.status, "sending"), eq(d.claimedUntil, delivery.claimedUntil ?? -1));
    const finish = (values: Partial<DeliveryRow>) => writes.push(db.update(d).set({ ...values, claimedUntil: null, updatedAt: now }).where(held));
    if ("skipped" in outcome) {
      report.failed++;
      finish({ status: "failed", lastError: outcome.skipped });
      logEvent("webhook_attempt", { deliveryId: delivery.id, endpointId: delivery.endpointId, attempt: delivery.attempts, outcome: "skipped", reason: outcome.skipped });
      continue;
    }
    const { target, result } = outcome;
    writes.push(
      db.insert(webhookAttempts).values({
        deliveryId: delivery.id,
        messageId: delivery.messageId,
        endpointId: delivery.endpointId,
        attempt: delivery.attempts,
        status: result.status,
        latencyMs: result.latencyMs,
        responseExcerpt: result.excerpt,
        error: result.error,
        createdAt: now,
      }),
    );
    let verdict: "succeeded" | "retrying" | "failed" | "gone";
    if (result.status !== null && result.status >= 200 && result.status < 300) {
      verdict = "succeeded";
      finish({ status: "succeeded", lastStatus: result.status, lastError: null });
      writes.push(db.update(e).set({ failingSince: null, updatedAt: now }).where(and(eq(e.id, target.id), sql`${e.failingSince} is not null`)));
    } else if (result.status === 410) {
      // Gone: the receiver says this URL will never take a webhook again.
      verdict = "gone";
      finish({ status: "failed", lastStatus: 410, lastError: "HTTP 410: the endpoint is gone and was disabled" });
      writes.push(endpointState(deps, target, { enabled: false, disabledReason: "answered 410 Gone", disabledAt: now }, now));
      failing.set(target.id, target);
    } else {
      let delay = retryDelayMs(delivery.attempts);
      if (delay !== null && result.retryAfterSeconds !== null) delay = Math.max(delay, Math.min(result.retryAfterSeconds * 1000, MAX_RETRY_AFTER_MS));
      verdict = delay === null ? "failed" : "retrying";
      finish({ status: delay === null ? "failed" : "pending", nextAttemptAt: now + (delay ?? 0), lastStatus: result.status, lastError: result.error });
      writes.push(endpointState(deps, target, { failingSince: now }, now, { failingSince: sql`coalesce(${e.failingSince}, ${now})` }));
      failing.set(target.id, target);
    }
    report[verdict === "gone" ? "failed" : verdict]++;
    logEvent("webhook_attempt", {
      deliveryId: delivery.id,
      messageId: delivery.messageId,
      endpointId: target.id,
      attempt: delivery.attempts,
      status: result.status,
      latencyMs: result.latencyMs,
      outcome: verdict,
    });
  }
  for (const target of failing.values()) {
    writes.push(
      db
        .update(e)
        .set({ enabled: false, disabledReason: "every attempt failed for 5 days", disabledAt: now, updatedAt: now })
        .where(and(eq(e.id, target.id), eq(e.enabled, true), lte(e.failingSince, now - DISABLE_AFTER_FAILING_MS))),
      // What a disabled endpoint still had waiting is not sent; a replay can send it later.
      db
        .update(d)
        .set({ status: "failed", lastError: "endpoint disabled", updatedAt: now })
        .where(
          and(
            eq(d.endpointId, target.id),
            eq(d.status, "pending"),
            exists(db.select({ id: e.id }).from(e).where(and(eq(e.id, target.id), eq(e.enabled, false)))),
          ),
        ),
    );
  }
  return writes;
}

/**
 * Writes an endpoint's state. A configured endpoint gets its state row the first time it needs
 * one; a stored endpoint is only updated (one deleted meanwhile stays deleted).
 */
function endpointState(deps: WebhookDeps, target: Target, values: Partial<EndpointRow>, now: number, onConflict: Record<string, unknown> = values) {
  const { db } = deps;
  if (!target.configured) return db.update(e).set({ ...onConflict, updatedAt: now }).where(eq(e.id, target.id));
  return db
    .insert(e)
    .values({ ...configuredStateRow(target.configured, now), ...values })
    .onConflictDoUpdate({ target: e.id, set: { ...onConflict, updatedAt: now } });
}

/** Runs `task` over `items` with at most `limit` running at once; results in the order of completion. */
async function inPool<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) results.push(await task(items[next++]!));
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

