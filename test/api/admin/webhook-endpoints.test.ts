import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { auditEvents, webhookEndpoints } from "../../../src/db/schema.ts";
import { DISABLE_AFTER_FAILING_MS } from "../../../src/webhooks/deliver.ts";
import { adminKey } from "../../support/admin.ts";
import { createConfirmedUser, errorCode, login } from "../../support/flows.ts";
import { newReceiver, serviceWithReceivers, type Receiver } from "../../support/receivers.ts";
import { createTestService, type TestService } from "../../support/service.ts";

type Endpoint = {
  id: string;
  source: string;
  url: string;
  description: string | null;
  events: string[] | null;
  enabled: boolean;
  disabled_reason: string | null;
  failing_since: string | null;
  previous_secret_expires_at: string | null;
};
const json = async <T>(res: Response) => (await res.json()) as T;

let configured: Receiver;
let t: TestService;
let admin: Awaited<ReturnType<typeof adminKey>>;
beforeAll(async () => {
  configured = await newReceiver("admin-configured");
  ({ t } = await serviceWithReceivers([configured]));
  admin = await adminKey(t, ["webhooks:read", "webhooks:write"]);
});

describe("admin API: webhook endpoints", () => {
  it("creates an endpoint whose secret is in the creation answer only, and lists and reads it without", async () => {
    const receiver = await newReceiver("admin-created");
    const res = await admin.call("POST", "/webhooks/endpoints", { url: receiver.url, events: ["user.created"], description: "CRM" });
    expect(res.status).toBe(201);
    const { endpoint, secret } = await json<{ endpoint: Endpoint; secret: string }>(res);
    expect(secret).toMatch(/^whsec_/);
    expect(endpoint).toMatchObject({ source: "api", url: receiver.url, events: ["user.created"], description: "CRM", enabled: true, disabled_reason: null });

    const list = await admin.call("GET", "/webhooks/endpoints");
    const { endpoints } = await json<{ endpoints: Endpoint[] }>(list.clone());
    expect(endpoints[0]).toMatchObject({ source: "config", url: configured.url, events: null });
    expect(endpoints.at(-1)).toEqual(endpoint);
    const one = await admin.call("GET", `/webhooks/endpoints/${endpoint.id}`);
    expect((await json<{ endpoint: Endpoint }>(one.clone())).endpoint).toEqual(endpoint);
    for (const body of [await list.text(), await one.text()]) expect(body).not.toContain("whsec_");

    // The secret it was given is the one that signs.
    const verifying = await receiver.useSecret(secret, t.deps.clock.now());
    await createConfirmedUser(t, "admin-created");
    await t.settle();
    expect((await verifying.accepted()).map((p) => p.type)).toEqual(["user.created"]);
  });

  it("refuses private, loopback and link-local URLs in production with 400 naming the url, and stores nothing", async () => {
    const prod = await createTestService({ settings: { ENVIRONMENT: "production" } });
    const key = await adminKey(prod, ["webhooks:write"]);
    for (const url of ["https://10.0.0.8/hooks", "https://169.254.169.254/latest/meta-data", "https://[::1]/in", "http://127.0.0.1:9000/in", "https://localhost/in", "https://[fe80::1]/in"]) {
      const res = await key.call("POST", "/webhooks/endpoints", { url });
      expect(res.status, url).toBe(400);
      const { error } = await json<{ error: { code: string; details: Array<{ path: string }> } }>(res);
      expect(error.code).toBe("validation_failed");
      expect(error.details.map((d) => d.path)).toEqual(["url"]);
    }
    expect(await prod.deps.db.select().from(webhookEndpoints)).toEqual([]);
    expect((await key.call("POST", "/webhooks/endpoints", { url: "https://hooks.example.com/in" })).status).toBe(201);
  });

  it("allows loopback http in development, and refuses bad bodies with 400 in the one error shape", async () => {
    expect((await admin.call("POST", "/webhooks/endpoints", { url: "http://127.0.0.1:9/hooks" })).status).toBe(201);
    for (const body of [{}, { url: 42 }, { url: "https://hooks.example.com/", events: [] }, { url: "https://hooks.example.com/", events: ["user.exploded"] }]) {
      expect(await errorCode(await admin.call("POST", "/webhooks/endpoints", body))).toBe("validation_failed");
    }
    expect(await errorCode(await admin.call("PATCH", "/webhooks/endpoints/ep_x", {}))).toBe("validation_failed");
  });

  it("updates url, events, description and enabled; a private url is refused on update too; 404 for an unknown id", async () => {
    const { endpoint } = await json<{ endpoint: Endpoint }>(await admin.call("POST", "/webhooks/endpoints", { url: "https://hooks.example.com/a" }));
    const path = `/webhooks/endpoints/${endpoint.id}`;
    const res = await admin.call("PATCH", path, { url: "https://hooks.example.com/b", events: ["user.disabled"], description: "billing", enabled: false });
    expect(res.status).toBe(200);
    expect((await json<{ endpoint: Endpoint }>(res)).endpoint).toMatchObject({
      url: "https://hooks.example.com/b",
      events: ["user.disabled"],
      description: "billing",
      enabled: false,
      disabled_reason: "disabled by an operator",
    });
    expect((await json<{ endpoint: Endpoint }>(await admin.call("PATCH", path, { enabled: true, events: null }))).endpoint).toMatchObject({
      enabled: true,
      disabled_reason: null,
      events: null,
    });
    expect(await errorCode(await admin.call("PATCH", path, { url: "https://192.168.0.1/in" }))).toBe("validation_failed");
    expect((await admin.call("PATCH", "/webhooks/endpoints/ep_unknown", { enabled: false })).status).toBe(404);
    expect((await admin.call("GET", "/webhooks/endpoints/ep_unknown")).status).toBe(404);
  });

  it("deletes an endpoint: 204, then 404", async () => {
    const { endpoint } = await json<{ endpoint: Endpoint }>(await admin.call("POST", "/webhooks/endpoints", { url: "https://hooks.example.com/gone" }));
    expect((await admin.call("DELETE", `/webhooks/endpoints/${endpoint.id}`)).status).toBe(204);
    expect((await admin.call("GET", `/webhooks/endpoints/${endpoint.id}`)).status).toBe(404);
    expect((await admin.call("DELETE", `/webhooks/endpoints/${endpoint.id}`)).status).toBe(404);
  });

  it("lets an endpoint from WEBHOOK_ENDPOINTS be enabled and disabled only: 409 endpoint_configured for the rest", async () => {
    const id = t.deps.webhookEndpoints[0]!.id;
    const path = `/webhooks/endpoints/${id}`;
    expect((await json<{ endpoint: Endpoint }>(await admin.call("PATCH", path, { enabled: false }))).endpoint).toMatchObject({ source: "config", enabled: false });
    expect(await errorCode(await admin.call("PATCH", path, { url: "https://hooks.example.com/" }))).toBe("endpoint_configured");
    expect(await errorCode(await admin.call("POST", `${path}/rotate-secret`, {}))).toBe("endpoint_configured");
    expect(await errorCode(await admin.call("DELETE", path))).toBe("endpoint_configured");
    expect(await errorCode(await admin.call("POST", `${path}/replay`, { since: new Date(0).toISOString() }))).toBe("endpoint_disabled");
    expect((await json<{ endpoint: Endpoint }>(await admin.call("PATCH", path, { enabled: true }))).endpoint.enabled).toBe(true);
  });

  it("says why an endpoint was disabled: it answered 410, or every attempt failed for 5 days", async () => {
    const gone = await newReceiver("admin-gone");
    const failing = await newReceiver("admin-failing");
    const s = await serviceWithReceivers([], {}, [gone, failing]);
    const key = await adminKey(s.t, ["webhooks:read", "webhooks:write"]);
    const create = async (url: string) => (await json<{ endpoint: Endpoint }>(await key.call("POST", "/webhooks/endpoints", { url }))).endpoint.id;
    const goneId = await create(gone.url);
    const failingId = await create(failing.url);
    await gone.behave({ mode: "status", status: 410 });
    await failing.behave({ mode: "status", status: 500 });
    const { email } = await createConfirmedUser(s.t, "admin-disabled");
    await s.t.settle();
    const read = async (id: string) => (await json<{ endpoint: Endpoint }>(await key.call("GET", `/webhooks/endpoints/${id}`))).endpoint;
    expect(await read(goneId)).toMatchObject({ enabled: false, disabled_reason: "answered 410 Gone" });
    const since = new Date(s.clock.now()).toISOString();
    expect(await read(failingId)).toMatchObject({ enabled: true, failing_since: since });

    await s.advance(DISABLE_AFTER_FAILING_MS);
    await login(s.t, email);
    await s.t.settle();
    expect(await read(failingId)).toMatchObject({ enabled: false, disabled_reason: "every attempt failed for 5 days", failing_since: since });
  });
});

describe("the audit trail", () => {
  it("has every write with the acting key's id, and nothing for a write to an unknown endpoint", async () => {
    const receiver = await newReceiver("admin-audited");
    const key = await adminKey(t, ["webhooks:read", "webhooks:write"]);
    const { endpoint } = await json<{ endpoint: Endpoint }>(await key.call("POST", "/webhooks/endpoints", { url: receiver.url }));
    const path = `/webhooks/endpoints/${endpoint.id}`;
    await key.call("PATCH", path, { description: "audited" });
    await key.call("POST", `${path}/rotate-secret`, {});
    await key.call("POST", `${path}/replay`, { since: new Date(0).toISOString() });
    await key.call("PATCH", `/webhooks/endpoints/${t.deps.webhookEndpoints[0]!.id}`, { enabled: true });
    await key.call("DELETE", path);
    for (const [method, body] of [["PATCH", { enabled: true }], ["POST", {}], ["DELETE", undefined]] as const) {
      expect((await key.call(method, `${path}${method === "POST" ? "/rotate-secret" : ""}`, body)).status).toBe(404);
    }
    await t.settle();
    const rows = await t.deps.db.select().from(auditEvents).where(eq(auditEvents.actor, `key:${key.id}`));
    expect(rows.map((r) => r.type).sort()).toEqual([
      "admin_webhook_endpoint_created",
      "admin_webhook_endpoint_deleted",
      "admin_webhook_endpoint_updated",
      "admin_webhook_endpoint_updated",
      "admin_webhook_replayed",
      "admin_webhook_secret_rotated",
    ]);
  });
});
