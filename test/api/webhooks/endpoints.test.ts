import { describe, expect, it } from "vitest";
import { AppError } from "../../../src/lib/errors.ts";
import { webhookEndpoints } from "../../../src/db/schema.ts";
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  rotateEndpointSecret,
  updateEndpoint,
} from "../../../src/webhooks/endpoints.ts";
import { createConfirmedUser, login } from "../../support/flows.ts";
import { deliveriesOf, newReceiver, serviceWithReceivers } from "../../support/receivers.ts";
import { createTestService } from "../../support/service.ts";

async function refusal(run: () => Promise<unknown>): Promise<AppError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("creating an endpoint in production", () => {
  describe.each([
    ["plain http", "http://hooks.example.com/in"],
    ["loopback", "https://127.0.0.1/in"],
    ["loopback in another spelling", "https://0x7f.1/in"],
    ["loopback as one number", "https://2130706433/in"],
    ["localhost", "https://localhost:8443/in"],
    ["a name under localhost", "https://api.localhost/in"],
    ["private 10/8", "https://10.1.2.3/in"],
    ["private 172.16/12", "https://172.20.0.1/in"],
    ["private 192.168/16", "https://192.168.1.10/in"],
    ["carrier-grade NAT", "https://100.64.0.1/in"],
    ["link-local (cloud metadata)", "https://169.254.169.254/latest/meta-data"],
    ["this network", "https://0.0.0.0/in"],
    ["IPv6 loopback", "https://[::1]/in"],
    ["IPv6 link-local", "https://[fe80::1]/in"],
    ["IPv6 unique local", "https://[fd12:3456::1]/in"],
    ["IPv4-mapped loopback", "https://[::ffff:127.0.0.1]/in"],
    ["NAT64 of a private address", "https://[64:ff9b::10.0.0.1]/in"],
    ["a .internal name", "https://metadata.google.internal/computeMetadata"],
    ["a .local name", "https://printer.local/in"],
    ["a single-label name", "https://intranet/in"],
    ["credentials in the URL", "https://user:secret@hooks.example.com/in"],
    ["not a URL", "hooks.example.com/in"],
  ])("with %s (%s)", (_label, url) => {
    it("is refused with 400 validation_failed naming the url, and nothing is stored", async () => {
      const t = await createTestService({ settings: { ENVIRONMENT: "production" } });
      const err = await refusal(() => createEndpoint(t.deps, { url }));
      expect(err.status).toBe(400);
      expect(err.code).toBe("validation_failed");
      expect(err.options.details).toEqual([{ path: "url", message: expect.any(String) }]);
      expect(await t.deps.db.select().from(webhookEndpoints)).toEqual([]);
    });
  });

  it.each(["https://hooks.example.com/in", "https://93.184.216.34/in", "https://[2606:4700:4700::1111]/in", "https://hooks.example.com./in"])(
    "accepts %s",
    async (url) => {
      const t = await createTestService({ settings: { ENVIRONMENT: "production" } });
      const { endpoint } = await createEndpoint(t.deps, { url });
      expect(endpoint).toMatchObject({ url, source: "api", enabled: true, events: null });
    },
  );

  it("refuses unknown event types", async () => {
    const t = await createTestService();
    const err = await refusal(() => createEndpoint(t.deps, { url: "https://hooks.example.com/in", events: ["user.created", "user.exploded"] }));
    expect(err.options.details).toEqual([{ path: "events", message: "unknown event types: user.exploded" }]);
  });
});

describe("in development and test", () => {
  it("allows http to this machine but still refuses private networks and plain http elsewhere", async () => {
    const t = await createTestService();
    await expect(createEndpoint(t.deps, { url: "http://127.0.0.1:9000/hooks" })).resolves.toBeTruthy();
    await expect(createEndpoint(t.deps, { url: "http://localhost:9000/hooks" })).resolves.toBeTruthy();
    await expect(createEndpoint(t.deps, { url: "http://[::1]:9000/hooks" })).resolves.toBeTruthy();
    for (const url of ["http://hooks.example.com/in", "https://10.0.0.1/in", "https://[fe80::1]/in"]) {
      expect((await refusal(() => createEndpoint(t.deps, { url }))).code).toBe("validation_failed");
    }
  });
});

describe("the repository the admin API uses", () => {
  it("creates, lists, reads, updates and deletes endpoints; the secret is shown once and stored sealed", async () => {
    const configured = await newReceiver("listed");
    const { t } = await serviceWithReceivers([configured]);
    const created = await createEndpoint(t.deps, { url: "https://hooks.example.com/a", events: ["user.created"], description: "CRM" });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/); // 32 bytes
    const [stored] = await t.deps.db.select().from(webhookEndpoints);
    expect(stored!.secret).not.toContain(created.secret.slice(6));

    const list = await listEndpoints(t.deps);
    expect(list.map((e) => [e.source, e.url, e.events])).toEqual([
      ["config", configured.url, null],
      ["api", "https://hooks.example.com/a", ["user.created"]],
    ]);
    expect(await getEndpoint(t.deps, created.endpoint.id)).toEqual(created.endpoint);
    expect(JSON.stringify(list)).not.toContain("whsec_");

    const updated = await updateEndpoint(t.deps, created.endpoint.id, { events: null, enabled: false });
    expect(updated).toMatchObject({ events: null, enabled: false, disabledReason: "disabled by an operator" });
    expect((await refusal(() => updateEndpoint(t.deps, created.endpoint.id, { url: "https://10.0.0.1/" }))).code).toBe("validation_failed");
    expect(await updateEndpoint(t.deps, created.endpoint.id, { enabled: true })).toMatchObject({ enabled: true, disabledReason: null });

    expect(await deleteEndpoint(t.deps, created.endpoint.id)).toBe(true);
    expect(await getEndpoint(t.deps, created.endpoint.id)).toBeNull();
    expect(await deleteEndpoint(t.deps, created.endpoint.id)).toBe(false);
    expect(await updateEndpoint(t.deps, "ep_missing", { enabled: false })).toBeNull();
    expect(await rotateEndpointSecret(t.deps, "ep_missing")).toBeNull();
  });

  it("lets a configured endpoint be enabled and disabled only: the rest is the setting's", async () => {
    const configured = await newReceiver("config-only");
    const { t } = await serviceWithReceivers([configured]);
    const id = t.deps.webhookEndpoints[0]!.id;
    expect(await updateEndpoint(t.deps, id, { enabled: false })).toMatchObject({ source: "config", enabled: false });
    expect((await refusal(() => updateEndpoint(t.deps, id, { url: "https://hooks.example.com/" }))).code).toBe("endpoint_configured");
    expect(await rotateEndpointSecret(t.deps, id)).toBeNull();
    expect(await deleteEndpoint(t.deps, id)).toBe(false);

    const { email } = await createConfirmedUser(t, "config-only");
    await t.settle();
    expect(await configured.requests()).toEqual([]);
    await updateEndpoint(t.deps, id, { enabled: true });
    await login(t, email);
    await t.settle();
    expect((await configured.accepted()).map((p) => p.type)).toEqual(["session.created"]);
  });

  it("sends a stored endpoint only the event types it asked for", async () => {
    const receiver = await newReceiver("filtered");
    const { t } = await serviceWithReceivers([], {}, [receiver]);
    const { endpoint, secret } = await createEndpoint(t.deps, { url: receiver.url, events: ["user.created", "session.revoked"] });
    const verifying = await receiver.useSecret(secret, t.deps.clock.now());
    const { session } = await createConfirmedUser(t, "filtered");
    expect((await t.post("/v1/logout", {}, session.access_token)).status).toBe(204);
    await t.settle();
    expect((await verifying.accepted()).map((p) => p.type).sort()).toEqual(["session.revoked", "user.created"]);
    expect((await deliveriesOf(t, endpoint.id)).every((d) => d.status === "succeeded")).toBe(true);
  });

  it("marks what a deleted endpoint still had waiting as failed", async () => {
    const receiver = await newReceiver("deleted");
    const { t } = await serviceWithReceivers([], {}, [receiver]);
    const { endpoint } = await createEndpoint(t.deps, { url: receiver.url });
    await receiver.behave({ mode: "down" });
    await createConfirmedUser(t, "deleted");
    await t.settle();
    expect((await deliveriesOf(t, endpoint.id)).map((d) => d.status)).toEqual(["pending", "pending", "pending"]);
    await deleteEndpoint(t.deps, endpoint.id);
    expect((await deliveriesOf(t, endpoint.id)).map((d) => [d.status, d.lastError])).toEqual(Array(3).fill(["failed", "endpoint deleted"]));
  });
});
