import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { startWebhookReceiver, type WebhookReceiver } from "../../tools/webhook-receiver.ts";

// The receiver script for trying webhooks by hand (npm run webhook-receiver).
const secret = `whsec_${randomBytes(32).toString("base64")}`;
const printed: string[] = [];
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver({ port: 0, secret, print: (line) => printed.push(line) });
});

afterAll(async () => {
  await receiver.close();
});

function post(body: string, id: string, at: Date, signWith = secret) {
  const signature = new Webhook(signWith).sign(id, at, body);
  return fetch(receiver.url, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": signature },
  });
}

const event = JSON.stringify({ type: "user.created", timestamp: "2026-11-21T12:00:00.000Z", data: { event_id: "msg_1", sequence: 7, user: { id: "u1" } } });

describe("npm run webhook-receiver", () => {
  it("prints a verified event and answers 204", async () => {
    expect((await post(event, "msg_1", new Date())).status).toBe(204);
    expect(printed.at(-1)).toMatch(/^2026-11-21T12:00:00.000Z user.created #7 msg_1\n\{/);
  });

  it.each([
    ["another secret", () => post(event, "msg_2", new Date(), `whsec_${randomBytes(32).toString("base64")}`), /No matching signature/],
    ["a stale timestamp", () => post(event, "msg_3", new Date(Date.now() - 10 * 60_000)), /timestamp too old/],
  ])("refuses a request signed with %s (400) and says why", async (_label, send, reason) => {
    expect((await send()).status).toBe(400);
    expect(printed.at(-1)).toMatch(reason);
  });

  it("refuses a tampered body", async () => {
    const at = new Date();
    const signature = new Webhook(secret).sign("msg_4", at, event);
    const res = await fetch(receiver.url, {
      method: "POST",
      body: event.replace("user.created", "user.deleted"),
      headers: { "webhook-id": "msg_4", "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": signature },
    });
    expect(res.status).toBe(400);
    expect(printed.at(-1)).toMatch(/refused .*msg_4.*No matching signature/);
  });
});
