import { describe, expect, it } from "vitest";
import { DISABLE_AFTER_FAILING_MS, deliverDueWebhooks, RETRY_SCHEDULE_MS } from "../../../src/webhooks/deliver.ts";
import { listEndpoints, updateEndpoint } from "../../../src/webhooks/endpoints.ts";
import { EXCERPT_BYTES } from "../../../src/webhooks/send.ts";
import { createConfirmedUser, login } from "../../support/flows.ts";
import { attemptsOf, deliveriesOf, endpointRow, messagesOf, newReceiver, serviceWithReceivers } from "../../support/receivers.ts";

const MINUTE = 60_000;

describe("a receiver that is down for two minutes", () => {
  it("gets every message exactly once per webhook-id once it is back, each retry carrying the same id and body", async () => {
    const receiver = await newReceiver("outage");
    const { t, advance } = await serviceWithReceivers([receiver]);
    await receiver.behave({ mode: "down" });
    const { email } = await createConfirmedUser(t, "outage");
    await login(t, email);
    await login(t, email);
    await t.settle();

    const messages = await messagesOf(t);
    expect(messages).toHaveLength(5);
    for (const delivery of await deliveriesOf(t)) {
      expect(delivery).toMatchObject({ status: "pending", attempts: 1, lastStatus: null, lastError: "network error" });
    }
    // The cron runs every minute; for two minutes the receiver is still down.
    await advance(MINUTE);
    expect((await deliverDueWebhooks(t.deps)).claimed).toBe(5);
    await advance(MINUTE);
    expect((await deliverDueWebhooks(t.deps)).claimed).toBe(0);
    const endpointId = t.deps.webhookEndpoints[0]!.id;
    expect((await endpointRow(t, endpointId))?.failingSince).not.toBeNull();

    await receiver.behave({ mode: "ok" });
    let minutes = 0;
    while ((await deliveriesOf(t)).some((d) => d.status !== "succeeded")) {
      expect(++minutes).toBeLessThan(10);
      await advance(MINUTE);
      await deliverDueWebhooks(t.deps);
    }

    const requests = await receiver.requests();
    const accepted = requests.filter((r) => r.verdict === "accepted");
    expect(accepted.map((r) => r.webhookId).sort()).toEqual(messages.map((m) => m.id).sort());
    expect(accepted.filter((r) => r.duplicate)).toEqual([]);
    for (const message of messages) {
      const tries = requests.filter((r) => r.webhookId === message.id);
      expect(tries.map((r) => r.answered)).toEqual([null, null, 204]);
      expect(new Set(tries.map((r) => r.body)).size).toBe(1);
      // Signed anew at each attempt, with its own time.
      expect(new Set(tries.map((r) => r.timestamp)).size).toBe(3);
    }
    expect((await deliveriesOf(t)).map((d) => d.attempts)).toEqual([3, 3, 3, 3, 3]);
    expect((await endpointRow(t, endpointId))?.failingSince).toBeNull();
  });
});

describe("retries", () => {
  it("follow Standard Webhooks' schedule with jitter, then give up after the eighth attempt", async () => {
    const receiver = await newReceiver("schedule");
    const { t, clock, advance } = await serviceWithReceivers([receiver]);
    await receiver.behave({ mode: "status", status: 500 });
    await createConfirmedUser(t, "schedule");
    await t.settle();
    // The cron, run exactly when the next delivery is due.
    for (;;) {
      const pending = (await deliveriesOf(t)).filter((d) => d.status === "pending");
      if (pending.length === 0) break;
      await advance(Math.min(...pending.map((d) => d.nextAttemptAt)) - clock.now());
      await deliverDueWebhooks(t.deps);
    }
    const deliveries = await deliveriesOf(t);
    expect(deliveries).toHaveLength(3);
    for (const delivery of deliveries) {
      expect(delivery).toMatchObject({ status: "failed", attempts: 8, lastStatus: 500, lastError: "HTTP 500" });
      const attempts = await attemptsOf(t, delivery.messageId);
      expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const waits = attempts.slice(1).map((a, i) => a.createdAt - attempts[i]!.createdAt);
      waits.forEach((wait, i) => {
        expect(wait).toBeGreaterThanOrEqual(0.8 * RETRY_SCHEDULE_MS[i]!);
        expect(wait).toBeLessThanOrEqual(1.2 * RETRY_SCHEDULE_MS[i]!);
      });
    }
    await advance(24 * 3600_000);
    expect((await deliverDueWebhooks(t.deps)).claimed).toBe(0);
  });

  describe.each([
    { status: 429, retryAfter: "600", waitMs: 600_000 },
    { status: 503, retryAfter: "120", waitMs: 120_000 },
  ])("after a $status with Retry-After: $retryAfter", ({ status, retryAfter, waitMs }) => {
    it("waits as long as the receiver asks, then delivers once", async () => {
      const receiver = await newReceiver("retry-after");
      const { t, clock, advance } = await serviceWithReceivers([receiver]);
      await receiver.behave({ mode: "status", status, retryAfter, times: 3 });
      await createConfirmedUser(t, "retry-after");
      await t.settle();
      for (const delivery of await deliveriesOf(t)) expect(delivery.nextAttemptAt - clock.now()).toBe(waitMs);

      await advance(waitMs - 1000);
      expect((await deliverDueWebhooks(t.deps)).claimed).toBe(0);
      await advance(1000);
      expect((await deliverDueWebhooks(t.deps)).claimed).toBe(3);
      expect((await receiver.accepted()).map((p) => p.type).sort()).toEqual(["session.created", "user.confirmed", "user.created"]);
    });
  });

  it("ignores Retry-After on other statuses and keeps to the schedule", async () => {
    const receiver = await newReceiver("retry-after-500");
    const { t, clock } = await serviceWithReceivers([receiver]);
    await receiver.behave({ mode: "status", status: 500, retryAfter: "3600" });
    await createConfirmedUser(t, "retry-after-500");
    await t.settle();
    for (const delivery of await deliveriesOf(t)) expect(delivery.nextAttemptAt - clock.now()).toBeLessThanOrEqual(6_000);
  });
});

describe("what counts as delivered", () => {
  it("does not follow a redirect: the signed payload goes to the endpoint's own URL only", async () => {
    const receiver = await newReceiver("redirecting");
    const elsewhere = await newReceiver("elsewhere");
    const { t } = await serviceWithReceivers([receiver]);
    await receiver.behave({ mode: "redirect", location: elsewhere.url, status: 307 });
    await createConfirmedUser(t, "redirect");
    await t.settle();
    for (const delivery of await deliveriesOf(t)) {
      expect(delivery).toMatchObject({ status: "pending", lastStatus: 307, lastError: "HTTP 307 (redirects are not followed)" });
    }
    expect(await elsewhere.requests()).toEqual([]);
  });

  it("gives up on an attempt the endpoint does not answer in time, and retries it", async () => {
    const receiver = await newReceiver("slow");
    const { t } = await serviceWithReceivers([receiver], { deps: { webhookTimeoutMs: 300 } });
    await receiver.behave({ mode: "hang", times: 3 });
    await createConfirmedUser(t, "slow");
    await t.settle();
    for (const delivery of await deliveriesOf(t)) {
      expect(delivery).toMatchObject({ status: "pending", attempts: 1, lastStatus: null, lastError: "no answer within 300 ms" });
      const [attempt] = await attemptsOf(t, delivery.messageId);
      expect(attempt!.latencyMs).toBeGreaterThanOrEqual(250);
    }
  });

  it("logs each attempt with its status, latency and at most 1 KiB of the answer", async () => {
    const receiver = await newReceiver("chatty");
    const { t } = await serviceWithReceivers([receiver]);
    const body = `${"é".repeat(600)}${"x".repeat(3000)}`;
    await receiver.behave({ mode: "status", status: 500, body, times: 3 });
    await createConfirmedUser(t, "chatty");
    await t.settle();
    const [message] = await messagesOf(t);
    const [attempt] = await attemptsOf(t, message!.id);
    expect(attempt).toMatchObject({ attempt: 1, status: 500, error: "HTTP 500" });
    expect(attempt!.latencyMs).toBeGreaterThanOrEqual(0);
    const excerpt = attempt!.responseExcerpt!;
    expect(new TextEncoder().encode(excerpt).length).toBeLessThanOrEqual(EXCERPT_BYTES);
    expect(excerpt.length).toBe(EXCERPT_BYTES / 2); // 512 two-byte characters: none cut in half
    expect(body.startsWith(excerpt)).toBe(true);
  });
});

describe("disabling an endpoint", () => {
  it("disables it at once on 410 Gone: nothing more is fanned out to it until it is enabled again", async () => {
    const gone = await newReceiver("gone");
    const { t } = await serviceWithReceivers([gone]);
    await gone.behave({ mode: "status", status: 410, times: 1 });
    const { email } = await createConfirmedUser(t, "gone");
    await t.settle();

    const id = t.deps.webhookEndpoints[0]!.id;
    const [endpoint] = await listEndpoints(t.deps);
    expect(endpoint).toMatchObject({ id, source: "config", enabled: false, disabledReason: "answered 410 Gone" });
    const deliveries = await deliveriesOf(t);
    expect(deliveries.filter((d) => d.lastStatus === 410)).toHaveLength(1);
    // The other messages of that request were sent before or failed with it.
    for (const delivery of deliveries) expect(delivery.status).not.toBe("pending");

    await login(t, email);
    await t.settle();
    expect(await deliveriesOf(t)).toHaveLength(deliveries.length);

    await updateEndpoint(t.deps, id, { enabled: true });
    await login(t, email);
    await t.settle();
    expect((await gone.accepted()).map((p) => p.type).at(-1)).toBe("session.created");
  });

  it("disables an endpoint whose every attempt failed for five days, with the reason", async () => {
    const failing = await newReceiver("failing");
    const { t, clock, advance } = await serviceWithReceivers([failing]);
    await failing.behave({ mode: "status", status: 502 });
    const { email } = await createConfirmedUser(t, "failing");
    await t.settle();
    const id = t.deps.webhookEndpoints[0]!.id;
    const since = (await endpointRow(t, id))!.failingSince!;
    expect(since).toBe(clock.now());

    // Four days and more of failures, one login a day: still enabled.
    for (let day = 1; day <= 4; day++) {
      await advance(24 * 3600_000);
      await login(t, email);
      await t.settle();
      await deliverDueWebhooks(t.deps);
      expect((await endpointRow(t, id))?.enabled).toBe(true);
    }
    await advance(since + DISABLE_AFTER_FAILING_MS - clock.now());
    await login(t, email);
    await t.settle();
    expect(await endpointRow(t, id)).toMatchObject({ enabled: false, disabledReason: "every attempt failed for 5 days", failingSince: since });
    const waiting = (await deliveriesOf(t)).filter((d) => d.status === "pending");
    expect(waiting).toEqual([]);
    expect((await deliveriesOf(t)).filter((d) => d.lastError === "endpoint disabled").length).toBeGreaterThan(0);
  });
});
