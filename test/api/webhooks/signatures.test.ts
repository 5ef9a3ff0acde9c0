import { describe, expect, it } from "vitest";
import { createEndpoint, ROTATION_OVERLAP_MS, rotateEndpointSecret } from "../../../src/webhooks/endpoints.ts";
import { deliveriesOf, newReceiver, serviceWithReceivers, type ReceivedRequest } from "../../support/receivers.ts";
import { createConfirmedUser, login } from "../../support/flows.ts";
import { signWebhook } from "../../support/webhooks.ts";

// What a receiver that verifies with the standardwebhooks package accepts, and what it refuses.

const headersOf = (r: ReceivedRequest) => ({
  "webhook-id": r.webhookId!,
  "webhook-timestamp": r.timestamp!,
  "webhook-signature": r.signature!,
});

describe("signatures", () => {
  it("are Standard Webhooks' HMAC-SHA256 of id.timestamp.body, timestamped by the service's clock", async () => {
    const receiver = await newReceiver("standard");
    const { t, clock } = await serviceWithReceivers([receiver]);
    await createConfirmedUser(t, "standard");
    await t.settle();
    const requests = await receiver.requests();
    expect(requests).toHaveLength(3);
    for (const r of requests) {
      expect(r.verdict).toBe("accepted");
      expect(r.timestamp).toBe(String(Math.floor(clock.now() / 1000)));
      // Computed here with Web Crypto alone, independently of the package the Worker signs with.
      expect(r.signature).toBe(await signWebhook(receiver.secret, r.webhookId!, Number(r.timestamp), r.body));
    }
  });

  it("do not let a tampered body, id or timestamp through, nor a replay after five minutes", async () => {
    const receiver = await newReceiver("tamper");
    const { t, advance } = await serviceWithReceivers([receiver]);
    await createConfirmedUser(t, "tamper");
    await t.settle();
    const genuine = (await receiver.requests())[0]!;
    expect(genuine.verdict).toBe("accepted");

    const tamperedBody = genuine.body.replace('"email_confirmed":true', '"email_confirmed":false');
    expect(tamperedBody).not.toBe(genuine.body);
    expect(await receiver.post(tamperedBody, headersOf(genuine))).toBe(400);
    expect(await receiver.post(genuine.body, { ...headersOf(genuine), "webhook-id": `${genuine.webhookId}x` })).toBe(400);
    expect(await receiver.post(genuine.body, { ...headersOf(genuine), "webhook-timestamp": String(Number(genuine.timestamp) + 60) })).toBe(400);
    expect(await receiver.post(genuine.body, { ...headersOf(genuine), "webhook-signature": "v1,AAAA" })).toBe(400);

    // The same request, replayed six minutes later by someone who captured it.
    await advance(6 * 60_000);
    expect(await receiver.post(genuine.body, headersOf(genuine))).toBe(400);
    const refused = (await receiver.requests()).slice(3);
    expect(refused.map((r) => [r.verdict, r.reason])).toEqual([
      ["rejected", "No matching signature found"],
      ["rejected", "No matching signature found"],
      ["rejected", "No matching signature found"],
      ["rejected", "No matching signature found"],
      ["rejected", "Message timestamp too old"],
    ]);
  });

  it("from a service whose clock is ten minutes behind are refused as stale, and the service retries them", async () => {
    const receiver = await newReceiver("stale");
    const { t, clock } = await serviceWithReceivers([receiver]);
    await receiver.setClock(clock.now() + 10 * 60_000);
    await createConfirmedUser(t, "stale");
    await t.settle();
    const requests = await receiver.requests();
    expect(requests.map((r) => [r.verdict, r.reason, r.answered])).toEqual(Array(3).fill(["rejected", "Message timestamp too old", 400]));
    for (const delivery of await deliveriesOf(t)) expect(delivery).toMatchObject({ status: "pending", lastStatus: 400 });
  });
});

describe("rotating an endpoint's secret", () => {
  it("signs with the new and the old secret for 24 hours, then with the new one only", async () => {
    const receiver = await newReceiver("rotation");
    const { t, clock, advance } = await serviceWithReceivers([], {}, [receiver]);
    const { email } = await createConfirmedUser(t, "rotation");
    await t.settle();
    const { endpoint, secret: first } = await createEndpoint(t.deps, { url: receiver.url });
    const withFirst = await receiver.useSecret(first, clock.now());
    await login(t, email);
    await t.settle();
    expect((await withFirst.requests()).map((r) => [r.verdict, r.signature!.split(" ").length])).toEqual([["accepted", 1]]);

    const rotated = await rotateEndpointSecret(t.deps, endpoint.id);
    expect(rotated).toEqual({ secret: expect.stringMatching(/^whsec_/), previousExpiresAt: clock.now() + ROTATION_OVERLAP_MS });
    expect(rotated!.secret).not.toBe(first);
    // A receiver still on the old secret and one already on the new accept the same messages.
    for (const secret of [first, rotated!.secret]) {
      const verifying = await receiver.useSecret(secret, clock.now());
      await login(t, email);
      await t.settle();
      expect((await verifying.requests()).map((r) => [r.verdict, r.signature!.split(" ").length])).toEqual([["accepted", 2]]);
    }

    await advance(ROTATION_OVERLAP_MS + 1000);
    for (const [secret, verdict] of [[rotated!.secret, "accepted"], [first, "rejected"]] as const) {
      const verifying = await receiver.useSecret(secret, clock.now());
      await login(t, email);
      await t.settle();
      expect((await verifying.requests()).map((r) => [r.verdict, r.signature!.split(" ").length])).toEqual([[verdict, 1]]);
    }
  });
});
