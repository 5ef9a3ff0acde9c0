import { describe, expect, it } from "vitest";
import { createConfirmedUser } from "../../support/flows.ts";
import { newReceiver, serviceWithReceivers } from "../../support/receivers.ts";

// Development only (ENVIRONMENT=development needs a loopback PUBLIC_URL); the Host check and the 404
// outside development are tested with the other /dev pages (test/api/service/dev-mailbox.test.ts).
const LOCAL = { ENVIRONMENT: "development", PUBLIC_URL: "http://127.0.0.1:8787" };

interface DevWebhooks {
  endpoints: Array<{ id: string; url: string; enabled: boolean }>;
  messages: Array<{
    id: string;
    type: string;
    sequence: number;
    payload: { type: string; data: { event_id: string } };
    deliveries: Array<{ url: string; status: string; attempts: number; last_status: number | null; log: Array<{ status: number | null; response_excerpt: string | null }> }>;
  }>;
}

describe("GET /dev/webhooks", () => {
  it("shows the endpoints, and each message newest first with its payload, deliveries and attempts", async () => {
    const up = await newReceiver("dev-up");
    const failing = await newReceiver("dev-failing");
    const { t } = await serviceWithReceivers([up, failing], { settings: LOCAL });
    await failing.behave({ mode: "status", status: 500, body: "receiver exploded" });
    await createConfirmedUser(t, "dev-page");
    await t.settle();

    const res = await t.request("/dev/webhooks.json");
    expect(res.status).toBe(200);
    const page = (await res.json()) as DevWebhooks;
    expect(page.endpoints.map((e) => [e.url, e.enabled])).toEqual([
      [up.url, true],
      [failing.url, true],
    ]);
    expect(page.messages.map((m) => m.type)).toEqual(["session.created", "user.confirmed", "user.created"]);
    for (const message of page.messages) {
      expect(message.payload).toMatchObject({ type: message.type, data: { event_id: message.id } });
      expect(message.deliveries.map((d) => [d.url, d.status, d.attempts, d.last_status])).toEqual([
        [up.url, "succeeded", 1, 204],
        [failing.url, "pending", 1, 500],
      ]);
      expect(message.deliveries[1]!.log).toEqual([expect.objectContaining({ status: 500, response_excerpt: "receiver exploded" })]);
    }

    const html = await (await t.request("/dev/webhooks")).text();
    expect(html).toContain("session.created");
    expect(html).toContain(failing.url);
    expect(html).toContain("receiver exploded");
  });
});
