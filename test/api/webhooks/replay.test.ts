import { describe, expect, it } from "vitest";
import { deliverDueWebhooks, deliverWebhooks } from "../../../src/webhooks/deliver.ts";
import { createEndpoint } from "../../../src/webhooks/endpoints.ts";
import { replayEndpoint, replayMessage } from "../../../src/webhooks/replay.ts";
import { createConfirmedUser, login } from "../../support/flows.ts";
import { deliveriesOf, messagesOf, newReceiver, serviceWithReceivers } from "../../support/receivers.ts";

describe("replaying one message", () => {
  it("sends it again with the same webhook-id and body, which the receiver can tell is a repeat", async () => {
    const receiver = await newReceiver("replay-one");
    const { t } = await serviceWithReceivers([receiver]);
    await createConfirmedUser(t, "replay-one");
    await t.settle();
    const [message] = await messagesOf(t);
    const ids = await replayMessage(t.deps, message!.id);
    expect(ids).toHaveLength(1);
    await deliverWebhooks(t.deps, ids!);

    const copies = (await receiver.requests()).filter((r) => r.webhookId === message!.id);
    expect(copies.map((r) => [r.verdict, r.duplicate])).toEqual([
      ["accepted", false],
      ["accepted", true],
    ]);
    expect(copies[0]!.body).toBe(copies[1]!.body);
  });

  it("sends it to an endpoint created after it happened, and to that endpoint only", async () => {
    const first = await newReceiver("replay-first");
    const later = await newReceiver("replay-later");
    const { t } = await serviceWithReceivers([first], {}, [later]);
    await createConfirmedUser(t, "replay-later");
    await t.settle();
    const { endpoint, secret } = await createEndpoint(t.deps, { url: later.url });
    const verifying = await later.useSecret(secret, t.deps.clock.now());
    const [message] = await messagesOf(t);
    const before = (await first.requests()).length;

    const ids = await replayMessage(t.deps, message!.id, endpoint.id);
    await deliverWebhooks(t.deps, ids!);
    expect((await verifying.accepted()).map((p) => p.data.event_id)).toEqual([message!.id]);
    expect((await first.requests()).length).toBe(before);
  });

  it("answers null for a message or endpoint that does not exist", async () => {
    const receiver = await newReceiver("replay-missing");
    const { t } = await serviceWithReceivers([receiver]);
    await createConfirmedUser(t, "replay-missing");
    await t.settle();
    const [message] = await messagesOf(t);
    expect(await replayMessage(t.deps, "msg_nothing")).toBeNull();
    expect(await replayMessage(t.deps, message!.id, "ep_nothing")).toBeNull();
    expect(await replayEndpoint(t.deps, "ep_nothing", 0)).toBeNull();
  });
});

describe("replaying an endpoint since a time", () => {
  it("queues every message since then of the types it takes, failed ones included, and the cron sends them", async () => {
    const receiver = await newReceiver("replay-since");
    const { t, advance, clock } = await serviceWithReceivers([{ receiver, events: ["session.created"] }]);
    const id = t.deps.webhookEndpoints[0]!.id;
    const { email } = await createConfirmedUser(t, "replay-since");
    await t.settle();
    await advance(3600_000);
    const since = clock.now();
    await receiver.behave({ mode: "status", status: 422 });
    await login(t, email);
    await login(t, email);
    await t.settle();
    expect((await deliveriesOf(t, id)).map((d) => [d.status, d.lastStatus])).toEqual([
      ["succeeded", 204],
      ["pending", 422],
      ["pending", 422],
    ]);

    await receiver.behave({ mode: "ok" });
    const ids = await replayEndpoint(t.deps, id, since);
    expect(ids).toHaveLength(2);
    expect((await deliverDueWebhooks(t.deps)).succeeded).toBe(2);
    const logins = (await receiver.accepted()).filter((p) => p.data.reason === "login");
    expect(logins).toHaveLength(2);
    expect((await deliveriesOf(t, id)).map((d) => [d.status, d.attempts])).toEqual([
      ["succeeded", 1],
      ["succeeded", 1],
      ["succeeded", 1],
    ]);
  });
});
