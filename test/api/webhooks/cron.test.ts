import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index.ts";
import { CronBudget } from "../../../src/lib/cron-budget.ts";
import { deliverDueWebhooks, drainDueWebhooks, WEBHOOK_CRON_BATCH, WEBHOOK_LEASE_MS } from "../../../src/webhooks/deliver.ts";
import { createConfirmedUser, login, PASSWORD, type SessionBody } from "../../support/flows.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { attemptsOf, deliveriesOf, newReceiver, serviceWithReceivers } from "../../support/receivers.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";

/** Registers and confirms without running what waits for the response ("manual" background). */
async function confirmWithoutBackground(t: TestService) {
  const email = uniqueEmail("manual");
  expect((await t.post("/v1/register", { email, password: PASSWORD })).status).toBe(202);
  await t.runDeferred();
  const res = await t.post("/v1/confirm", { token: tokenFrom((await mailsTo(email)).at(-1)), password: PASSWORD });
  expect(res.status).toBe(200);
  return { email, session: ((await res.json()) as { session: SessionBody }).session };
}

describe("the cron", () => {
  it(`sends at most ${WEBHOOK_CRON_BATCH} deliveries a run and reports how many it left`, async () => {
    const receiver = await newReceiver("bounded");
    const { t, advance } = await serviceWithReceivers([receiver]);
    await receiver.behave({ mode: "down" });
    const { email } = await createConfirmedUser(t, "bounded");
    for (let i = 3; i < WEBHOOK_CRON_BATCH + 2; i++) await login(t, email);
    await t.settle();
    await receiver.behave({ mode: "ok" });
    await advance(60_000);

    expect(await deliverDueWebhooks(t.deps)).toEqual({ claimed: WEBHOOK_CRON_BATCH, succeeded: WEBHOOK_CRON_BATCH, retrying: 0, failed: 0, left: 2 });
    expect(await deliverDueWebhooks(t.deps)).toEqual({ claimed: 2, succeeded: 2, retrying: 0, failed: 0, left: 0 });
    expect((await receiver.accepted()).length).toBe(WEBHOOK_CRON_BATCH + 2);
  });

  it("drains a backlog in rounds as far as the run's share of subrequests goes, then reports what it left", async () => {
    const receiver = await newReceiver("drain");
    const { t, advance } = await serviceWithReceivers([receiver]);
    await receiver.behave({ mode: "down" });
    const { email } = await createConfirmedUser(t, "drain");
    for (let i = 0; i < 3 * WEBHOOK_CRON_BATCH; i++) await login(t, email);
    await t.settle();
    await receiver.behave({ mode: "ok" });
    await advance(60_000);
    const due = 3 + 3 * WEBHOOK_CRON_BATCH;

    // Two rounds' worth of subrequests: 2 × (claim + 12 deliveries + record).
    const short = await drainDueWebhooks(t.deps, new CronBudget(2 * (WEBHOOK_CRON_BATCH + 2), Number.POSITIVE_INFINITY));
    expect(short).toEqual({ claimed: 2 * WEBHOOK_CRON_BATCH, succeeded: 2 * WEBHOOK_CRON_BATCH, retrying: 0, failed: 0, left: due - 2 * WEBHOOK_CRON_BATCH });
    const rest = await drainDueWebhooks(t.deps, new CronBudget(1000, Number.POSITIVE_INFINITY));
    expect(rest).toMatchObject({ claimed: due - 2 * WEBHOOK_CRON_BATCH, left: 0 });
    const accepted = (await receiver.requests()).filter((r) => r.verdict === "accepted");
    expect(accepted).toHaveLength(due);
    expect(accepted.filter((r) => r.duplicate)).toEqual([]);
  });

  it("sends each due delivery once when runs overlap", async () => {
    const receiver = await newReceiver("overlap");
    const { t, advance } = await serviceWithReceivers([receiver]);
    await receiver.behave({ mode: "status", status: 500, times: 3 });
    await createConfirmedUser(t, "overlap");
    await t.settle();
    await advance(60_000);
    const runs = await Promise.all([deliverDueWebhooks(t.deps), deliverDueWebhooks(t.deps), deliverDueWebhooks(t.deps)]);
    expect(runs.reduce((sum, run) => sum + run.claimed, 0)).toBe(3);
    const accepted = (await receiver.requests()).filter((r) => r.verdict === "accepted");
    expect(accepted).toHaveLength(3);
    expect(accepted.filter((r) => r.duplicate)).toEqual([]);
  });

  it("takes over what a run was sending when it died, once its lease has run out; the late run cannot overwrite the outcome", async () => {
    const receiver = await newReceiver("orphan");
    // The request's own delivery run hangs in fetch (its isolate "died"); later runs get through.
    let hanging = true;
    let entered = 0;
    let allEntered!: () => void;
    const threeEntered = new Promise<void>((resolve) => (allEntered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const fetchThroughGate = async (input: string, init?: RequestInit) => {
      if (!hanging) return fetch(input, init);
      if (++entered === 3) allEntered();
      await released;
      return new Response("too late", { status: 500 });
    };
    const { t, advance } = await serviceWithReceivers([receiver], { background: "manual", deps: { fetch: fetchThroughGate } });
    await confirmWithoutBackground(t);
    const late = t.runDeferred();
    await threeEntered;
    hanging = false;
    expect((await deliveriesOf(t)).map((d) => d.status)).toEqual(["sending", "sending", "sending"]);

    await advance(WEBHOOK_LEASE_MS - 1000);
    expect((await deliverDueWebhooks(t.deps)).claimed).toBe(0);
    await advance(1000);
    expect((await deliverDueWebhooks(t.deps)).succeeded).toBe(3);
    release();
    await late;

    for (const delivery of await deliveriesOf(t)) {
      expect(delivery).toMatchObject({ status: "succeeded", attempts: 2, lastStatus: 204 });
      // Both attempts are in the log; only the newer claim decided the outcome.
      expect((await attemptsOf(t, delivery.messageId)).map((a) => a.status).sort()).toEqual([204, 500]);
    }
    expect((await receiver.requests()).map((r) => r.duplicate)).toEqual([false, false, false]);
  });

  it("runs in the Worker's scheduled handler", async () => {
    const receiver = await newReceiver("scheduled");
    // Rows written "ten minutes ago" are due for the handler, which runs on the real clock.
    const { t } = await serviceWithReceivers([receiver], { clock: new TestClock(Date.now() - 10 * 60_000) });
    await receiver.behave({ mode: "down" });
    await createConfirmedUser(t, "scheduled");
    await t.settle();
    await receiver.behave({ mode: "ok" });
    await receiver.setClock(null);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), t.workerEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect((await deliveriesOf(t)).map((d) => d.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect((await receiver.accepted()).length).toBe(3);
  });
});

describe("the response path", () => {
  const flows: Array<[string, (t: TestService, user: { email: string; session: SessionBody }) => Promise<Response>]> = [
    ["POST /v1/login", (t, { email }) => t.post("/v1/login", { email, password: PASSWORD })],
    ["POST /v1/logout", (t, { session }) => t.post("/v1/logout", {}, session.access_token)],
    ["POST /v1/logout {all}", (t, { session }) => t.post("/v1/logout", { all: true }, session.access_token)],
    [
      "POST /v1/password/change",
      (t, { session }) => t.post("/v1/password/change", { current_password: PASSWORD, new_password: "another fine passphrase" }, session.access_token),
    ],
  ];

  it.each(flows)("%s costs as many round trips with a webhook endpoint as without; delivery waits for the response", async (_name, run) => {
    const counts: number[] = [];
    for (const withEndpoint of [false, true]) {
      const receiver = await newReceiver("trips");
      const t = withEndpoint
        ? (await serviceWithReceivers([receiver], { background: "manual" })).t
        : await createTestService({ background: "manual" });
      const user = await confirmWithoutBackground(t);
      await t.runDeferred();
      const before = (await receiver.requests()).length;
      const { status, used } = await t.measureTrips(async () => {
        const res = await run(t, user);
        expect((await receiver.requests()).length).toBe(before);
        return res;
      });
      expect(status).toBeLessThan(300);
      counts.push(used);
      expect((await receiver.requests()).length > before).toBe(withEndpoint);
    }
    expect(counts[1]).toBe(counts[0]);
  });

  it("POST /v1/confirm costs as many round trips with a webhook endpoint as without", async () => {
    const counts: number[] = [];
    for (const withEndpoint of [false, true]) {
      const receiver = await newReceiver("trips-confirm");
      const t = withEndpoint
        ? (await serviceWithReceivers([receiver], { background: "manual" })).t
        : await createTestService({ background: "manual" });
      const email = uniqueEmail("trips-confirm");
      expect((await t.post("/v1/register", { email, password: PASSWORD })).status).toBe(202);
      await t.runDeferred();
      const token = tokenFrom((await mailsTo(email)).at(-1));
      const { status, used } = await t.measureTrips(() => t.post("/v1/confirm", { token, password: PASSWORD }));
      expect(status).toBe(200);
      counts.push(used);
      expect((await receiver.accepted()).length).toBe(withEndpoint ? 3 : 0);
    }
    expect(counts).toEqual([2, 2]);
  });
});
