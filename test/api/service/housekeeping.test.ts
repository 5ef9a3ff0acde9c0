import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index.ts";
import { eq } from "drizzle-orm";
import {
  auditEvents,
  emailTokens,
  outbox,
  rateLimits,
  refreshTokens,
  sessions,
  webhookAttempts,
  webhookDeliveries,
  webhookEvents,
  webhookMessages,
} from "../../../src/db/schema.ts";
import { DELETE_CHUNK } from "../../../src/db/chunked-delete.ts";
import { pruneExpiredRows } from "../../../src/db/retention.ts";
import { CronBudget, unlimitedBudget } from "../../../src/lib/cron-budget.ts";
import { createTestService } from "../../support/service.ts";
import { createConfirmedUser } from "../../support/flows.ts";

describe("counters", () => {
  it("drops window counters whose window ended, keeps live ones, and forgets login failures a day after the last", async () => {
    const t = await createTestService();
    const now = Date.now();
    const day = 24 * 3600_000;
    await t.deps.db.insert(rateLimits).values([
      { key: "ip:ended", count: 60, windowEndsAt: now - 1, updatedAt: now - 60_000 },
      { key: "mail:reset:ended", count: 5, windowEndsAt: now - 3600_000, updatedAt: now - 2 * 3600_000 },
      { key: "ip:live", count: 3, windowEndsAt: now + 60_000, updatedAt: now },
      // Three failures, not locked: the count survives a day after the last failure, then goes.
      { key: "login:a:recent", count: 3, windowEndsAt: 0, updatedAt: now - day + 60_000 },
      { key: "login:b:stale", count: 3, windowEndsAt: 0, updatedAt: now - day - 1 },
      { key: "login:c:older-release", count: 2, windowEndsAt: 0, updatedAt: null },
      { key: "login-day:ended", count: 40, windowEndsAt: now - 1, updatedAt: now - day },
      { key: "login-day:live", count: 40, windowEndsAt: now + 3600_000, updatedAt: now },
    ]);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), t.workerEnv, ctx);
    await waitOnExecutionContext(ctx);
    const keys = (await t.deps.db.select().from(rateLimits)).map((row) => row.key).sort();
    expect(keys).toEqual(["ip:live", "login-day:live", "login:a:recent"]);
  });
});

describe("retention", () => {
  it("deletes spent tokens, ended sessions, finished mail and old audit rows, and keeps what is live", async () => {
    const t = await createTestService();
    const { session, userId } = await createConfirmedUser(t, "retention");
    const day = 24 * 3600_000;
    const now = Date.now();
    const long = now - 40 * day;
    await t.deps.db.insert(sessions).values({ id: "old-session", userId, createdAt: long, expiresAt: long, ip: null, userAgent: null });
    await t.deps.db
      .insert(refreshTokens)
      .values({ id: "old-refresh", sessionId: "old-session", userId, tokenHash: "f".repeat(64), createdAt: long, expiresAt: long });
    await t.deps.db
      .insert(emailTokens)
      .values({ id: "old-email-token", userId, purpose: "reset_password", tokenHash: "e".repeat(64), createdAt: long, expiresAt: long });
    await t.deps.db.insert(auditEvents).values({ id: "old-audit", userId, type: "login_succeeded", ip: null, userAgent: null, createdAt: now - 100 * day });
    await t.deps.db.insert(webhookEvents).values({ id: "old-webhook", type: "email.sent", receivedAt: now - 8 * day });
    await t.deps.db.update(outbox).set({ updatedAt: long }).where(eq(outbox.userId, userId));

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), t.workerEnv, ctx);
    await waitOnExecutionContext(ctx);

    const db = t.deps.db;
    expect(await db.select().from(sessions).where(eq(sessions.id, "old-session"))).toHaveLength(0);
    expect(await db.select().from(refreshTokens).where(eq(refreshTokens.id, "old-refresh"))).toHaveLength(0);
    expect(await db.select().from(emailTokens).where(eq(emailTokens.id, "old-email-token"))).toHaveLength(0);
    expect(await db.select().from(auditEvents).where(eq(auditEvents.id, "old-audit"))).toHaveLength(0);
    expect(await db.select().from(webhookEvents)).toHaveLength(0);
    expect(await db.select().from(outbox).where(eq(outbox.userId, userId))).toHaveLength(0);
    // The live session and its recent audit trail are untouched.
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(200);
    expect((await db.select().from(auditEvents).where(eq(auditEvents.userId, userId))).length).toBeGreaterThan(0);
  });
});

describe("retention in chunks", () => {
  // No statement deletes more than DELETE_CHUNK rows, so none holds the write lock for long, and a
  // run whose budget is spent leaves the rest to the next one.
  it("deletes a backlog a chunk per statement, as far as the budget goes, and the next run finishes it", async () => {
    const t = await createTestService();
    const now = Date.now();
    const old = now - 100 * 24 * 3600_000;
    const rows = Array.from({ length: 2 * DELETE_CHUNK + 500 }, (_, i) => ({ id: `old-${i}`, userId: "u", type: "login_succeeded", ip: null, userAgent: null, createdAt: old }));
    for (let i = 0; i < rows.length; i += 500) await t.deps.db.insert(auditEvents).values(rows.slice(i, i + 500));
    const count = async () => (await t.deps.db.select({ id: auditEvents.id }).from(auditEvents)).length;

    // Ended sessions take 2 subrequests (none found), expired refresh tokens 1, then audit rows get 2.
    const writesBefore = await t.dbWrites();
    await pruneExpiredRows(t.deps.db, now, new CronBudget(5, Date.now() + 60_000));
    expect(await count()).toBe(500);
    expect((await t.dbWrites()) - writesBefore).toBe(3);

    await pruneExpiredRows(t.deps.db, now, unlimitedBudget());
    expect(await count()).toBe(0);
  });
});

describe("outbound webhook retention", () => {
  it("deletes attempts and messages (with their deliveries) after 30 days, unless a delivery is still waiting", async () => {
    const t = await createTestService();
    const day = 24 * 3600_000;
    const now = Date.now();
    const message = (id: string, occurredAt: number) => ({ id, type: "user.created", userId: null, data: "{}", occurredAt });
    const delivery = (messageId: string, status: "pending" | "succeeded" | "failed") => ({
      messageId,
      endpointId: "cfg_x",
      status,
      attempts: 1,
      // Not due: the same cron run does not deliver (and finish) it before the pruning looks.
      nextAttemptAt: now + day,
      createdAt: now,
      updatedAt: now,
    });
    await t.deps.db.insert(webhookMessages).values([message("msg_old", now - 31 * day), message("msg_old_waiting", now - 31 * day), message("msg_recent", now - 29 * day)]);
    await t.deps.db.insert(webhookDeliveries).values([delivery("msg_old", "succeeded"), delivery("msg_old_waiting", "pending"), delivery("msg_recent", "failed")]);
    const attempt = (messageId: string, createdAt: number) => ({ deliveryId: 1, messageId, endpointId: "cfg_x", attempt: 1, status: 500, latencyMs: 3, createdAt });
    await t.deps.db.insert(webhookAttempts).values([attempt("msg_old", now - 31 * day), attempt("msg_recent", now - 29 * day)]);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), t.workerEnv, ctx);
    await waitOnExecutionContext(ctx);

    const db = t.deps.db;
    expect((await db.select().from(webhookMessages)).map((m) => m.id).sort()).toEqual(["msg_old_waiting", "msg_recent"]);
    expect((await db.select().from(webhookDeliveries)).map((d) => d.messageId).sort()).toEqual(["msg_old_waiting", "msg_recent"]);
    expect((await db.select().from(webhookAttempts)).map((a) => a.messageId)).toEqual(["msg_recent"]);
  });
});
