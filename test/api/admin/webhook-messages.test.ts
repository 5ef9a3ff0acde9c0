import { describe, expect, it } from "vitest";
import { deliverDueWebhooks, RETRY_SCHEDULE_MS } from "../../../src/webhooks/deliver.ts";
import { ROTATION_OVERLAP_MS } from "../../../src/webhooks/endpoints.ts";
import { adminKey } from "../../support/admin.ts";
import { createConfirmedUser, errorCode, login } from "../../support/flows.ts";
import { messagesOf, newReceiver, serviceWithReceivers, type Receiver } from "../../support/receivers.ts";

type Message = { id: string; type: string; sequence: number; status: string; attempts: number; last_status: number | null; next_attempt_at: string | null };
type Attempt = { attempt: number; at: string; status: number | null; latency_ms: number; response_excerpt: string | null; error: string | null };
const json = async <T>(res: Response) => (await res.json()) as T;

/** A service, an admin key, and an endpoint made through the API for `receiver`, which verifies with its secret. */
async function withEndpoint(receiver: Receiver, body: Record<string, unknown> = {}) {
  const s = await serviceWithReceivers([], {}, [receiver]);
  const admin = await adminKey(s.t, ["webhooks:read", "webhooks:write"]);
  const res = await admin.call("POST", "/webhooks/endpoints", { url: receiver.url, ...body });
  expect(res.status).toBe(201);
  const { endpoint, secret } = await json<{ endpoint: { id: string }; secret: string }>(res);
  const verifying = await receiver.useSecret(secret, s.clock.now());
  return { ...s, admin, id: endpoint.id, secret, receiver: verifying, path: `/webhooks/endpoints/${endpoint.id}` };
}

describe("rotating an endpoint's secret through the admin API", () => {
  it("shows the new secret once; for 24 hours a receiver with either secret accepts, then only the new one signs", async () => {
    const { t, admin, path, secret: first, receiver, advance, clock } = await withEndpoint(await newReceiver("admin-rotation"));
    const { email } = await createConfirmedUser(t, "admin-rotation");
    await t.settle();

    const res = await admin.call("POST", `${path}/rotate-secret`, {});
    expect(res.status).toBe(200);
    const rotated = await json<{ secret: string; endpoint: { previous_secret_expires_at: string } }>(res);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(first);
    expect(rotated.endpoint.previous_secret_expires_at).toBe(new Date(clock.now() + ROTATION_OVERLAP_MS).toISOString());
    expect(await (await admin.call("GET", path)).text()).not.toContain("whsec_");

    for (const secret of [first, rotated.secret]) {
      const verifying = await receiver.useSecret(secret, clock.now());
      await login(t, email);
      await t.settle();
      expect((await verifying.requests()).map((r) => [r.verdict, r.signature!.split(" ").length])).toEqual([["accepted", 2]]);
    }

    await advance(ROTATION_OVERLAP_MS + 1000);
    const after = await json<{ endpoint: { previous_secret_expires_at: string | null } }>(await admin.call("GET", path));
    expect(after.endpoint.previous_secret_expires_at).toBeNull();
    for (const [secret, verdict] of [[rotated.secret, "accepted"], [first, "rejected"]] as const) {
      const verifying = await receiver.useSecret(secret, clock.now());
      await login(t, email);
      await t.settle();
      expect((await verifying.requests()).map((r) => [r.verdict, r.signature!.split(" ").length])).toEqual([[verdict, 1]]);
    }
  });
});

describe("an endpoint's messages and their attempts", () => {
  it("lists messages a page at a time with their status, and one message's failed then successful attempt", async () => {
    const { t, admin, path, receiver, advance } = await withEndpoint(await newReceiver("admin-log"));
    await receiver.behave({ mode: "status", status: 500, body: "try later", times: 3 });
    await createConfirmedUser(t, "admin-log");
    await t.settle();
    const messages = await messagesOf(t);
    expect(messages).toHaveLength(3);

    const failing = await json<{ messages: Message[] }>(await admin.call("GET", `${path}/messages`));
    expect(failing.messages.map((m) => [m.status, m.attempts, m.last_status])).toEqual(Array(3).fill(["pending", 1, 500]));
    expect(failing.messages.every((m) => m.next_attempt_at !== null)).toBe(true);

    await advance(RETRY_SCHEDULE_MS[0]! * 1.2);
    expect((await deliverDueWebhooks(t.deps)).succeeded).toBe(3);

    const seen: Message[] = [];
    let cursor: string | null = null;
    do {
      const page: { messages: Message[]; next_cursor: string | null } = await json(await admin.call("GET", `${path}/messages?limit=2${cursor ? `&cursor=${cursor}` : ""}`));
      expect(page.messages.length).toBeLessThanOrEqual(2);
      seen.push(...page.messages);
      cursor = page.next_cursor;
    } while (cursor);
    // Each once. Pages follow the order deliveries were queued, which within one commit's fan-out is
    // not the events' order: that is what sequence is for.
    const bySequence = [...seen].sort((a, b) => a.sequence - b.sequence);
    expect(bySequence.map((m) => [m.id, m.type, m.sequence])).toEqual(messages.map((m) => [m.id, m.type, m.seq]));
    expect(seen.map((m) => [m.status, m.attempts, m.last_status, m.next_attempt_at])).toEqual(Array(3).fill(["succeeded", 2, 204, null]));
    expect((await json<{ messages: Message[] }>(await admin.call("GET", `${path}/messages?status=failed`))).messages).toEqual([]);

    const res = await admin.call("GET", `${path}/messages/${seen[0]!.id}/attempts`);
    const { attempts } = await json<{ attempts: Attempt[] }>(res);
    expect(attempts.map((a) => [a.attempt, a.status, a.error, a.response_excerpt])).toEqual([
      [1, 500, "HTTP 500", "try later"],
      [2, 204, null, null],
    ]);
    expect(attempts.every((a) => Number.isInteger(a.latency_ms) && a.latency_ms >= 0)).toBe(true);
  });

  it("answers 404 for an unknown endpoint or message, and 400 for a cursor it did not give out", async () => {
    const { t, admin, path } = await withEndpoint(await newReceiver("admin-log-404"));
    await createConfirmedUser(t, "admin-log-404");
    await t.settle();
    const [message] = await messagesOf(t);
    expect((await admin.call("GET", "/webhooks/endpoints/ep_unknown/messages")).status).toBe(404);
    expect((await admin.call("GET", `/webhooks/endpoints/ep_unknown/messages/${message!.id}/attempts`)).status).toBe(404);
    expect((await admin.call("GET", `${path}/messages/msg_unknown/attempts`)).status).toBe(404);
    for (const query of ["cursor=bm90IG91cnM", "cursor=LTE", "limit=0", "status=lost"]) {
      expect(await errorCode(await admin.call("GET", `${path}/messages?${query}`))).toBe("validation_failed");
    }
  });
});

describe("replay through the admin API", () => {
  it("sends one message again with the same webhook-id, which the receiver can tell is a repeat", async () => {
    const { t, admin, path, receiver } = await withEndpoint(await newReceiver("admin-replay-one"));
    await createConfirmedUser(t, "admin-replay-one");
    await t.settle();
    const [message] = await messagesOf(t);

    // No body at all, as the README's curl sends it.
    const res = await admin.call("POST", `${path}/messages/${message!.id}/replay`);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ queued: 1 });
    await t.settle();
    const copies = (await receiver.requests()).filter((r) => r.webhookId === message!.id);
    expect(copies.map((r) => [r.verdict, r.duplicate])).toEqual([
      ["accepted", false],
      ["accepted", true],
    ]);
    expect(copies[1]!.body).toBe(copies[0]!.body);
    expect((await admin.call("POST", `${path}/messages/msg_unknown/replay`, {})).status).toBe(404);
    expect((await admin.call("POST", `/webhooks/endpoints/ep_unknown/messages/${message!.id}/replay`, {})).status).toBe(404);
  });

  it("sends every message since a time of the types the endpoint takes, and nothing from before", async () => {
    const { t, admin, path, receiver, advance, clock } = await withEndpoint(await newReceiver("admin-replay-since"), { events: ["session.created"] });
    const { email } = await createConfirmedUser(t, "admin-replay-since");
    await t.settle();
    await advance(3600_000);
    const since = new Date(clock.now()).toISOString();
    await receiver.behave({ mode: "down" });
    await login(t, email);
    await login(t, email);
    await t.settle();
    await receiver.behave({ mode: "ok" });

    const res = await admin.call("POST", `${path}/replay`, { since });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ queued: 2 });
    await t.settle();
    const accepted = await receiver.accepted();
    expect(accepted.map((p) => [p.type, p.data.reason])).toEqual([
      ["session.created", "confirm"],
      ["session.created", "login"],
      ["session.created", "login"],
    ]);
    const { messages } = await json<{ messages: Message[] }>(await admin.call("GET", `${path}/messages`));
    expect(messages.map((m) => m.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(await errorCode(await admin.call("POST", `${path}/replay`, { since: "yesterday" }))).toBe("validation_failed");
  });

  it("refuses to replay to a disabled endpoint: 409 endpoint_disabled", async () => {
    const { t, admin, path } = await withEndpoint(await newReceiver("admin-replay-disabled"));
    await createConfirmedUser(t, "admin-replay-disabled");
    await t.settle();
    const [message] = await messagesOf(t);
    await admin.call("PATCH", path, { enabled: false });
    expect(await errorCode(await admin.call("POST", `${path}/messages/${message!.id}/replay`, {}))).toBe("endpoint_disabled");
    expect(await errorCode(await admin.call("POST", `${path}/replay`, { since: new Date(0).toISOString() }))).toBe("endpoint_disabled");
  });
});
