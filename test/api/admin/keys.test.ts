import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { apiKeys, auditEvents } from "../../../src/db/schema.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { adminKey } from "../../support/admin.ts";
import { createConfirmedUser, errorCode } from "../../support/flows.ts";

const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  t = await createTestService({ clock });
});

describe("admin API keys", () => {
  it("refuses a request without a key, with a user's access token, or with the key in the query string", async () => {
    const { session } = await createConfirmedUser(t, "not-admin");
    const { key } = await adminKey(t, ["users:read"]);
    for (const init of [{}, { token: session.access_token }]) {
      const res = await t.request("/admin/v1/users", init);
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe("invalid_api_key");
    }
    expect((await t.request(`/admin/v1/users?key=${key}&api_key=${key}`)).status).toBe(401);
  });

  it("creates a key shown once, in the ea_<env>_ format, stored only as an HMAC with a prefix and last four", async () => {
    const admin = await adminKey(t, ["keys:write", "users:read"]);
    const res = await admin.call("POST", "/keys", { name: "CRM sync", scopes: ["users:read"] });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { key: string; api_key: { id: string; prefix: string; last4: string; scopes: string[] } };
    expect(body.key).toMatch(/^ea_test_[0-9A-Za-z]{43}$/);
    expect(body.api_key).toMatchObject({ prefix: body.key.slice(0, "ea_test_".length + 4), last4: body.key.slice(-4), scopes: ["users:read"] });
    const [row] = await t.deps.db.select().from(apiKeys).where(eq(apiKeys.id, body.api_key.id));
    expect(JSON.stringify(row)).not.toContain(body.key);
    // The new key works, for what it was given.
    expect((await admin.call("GET", "/users", undefined, body.key)).status).toBe(200);
    const listed = (await (await admin.call("GET", "/keys")).json()) as { api_keys: Array<Record<string, unknown>> };
    expect(JSON.stringify(listed)).not.toContain(row!.keyHash);
    expect(JSON.stringify(listed)).not.toContain(body.key);
  });

  it("answers 403 insufficient_scope naming the scope, and a key cannot grant scopes it lacks", async () => {
    const reader = await adminKey(t, ["users:read"]);
    const res = await reader.call("POST", "/keys", { name: "x", scopes: ["users:read"] });
    expect(res.status).toBe(403);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("insufficient_scope");
    expect(error.message).toContain("keys:write");
    const keyAdmin = await adminKey(t, ["keys:write"]);
    const escalate = await keyAdmin.call("POST", "/keys", { name: "x", scopes: ["users:write"] });
    expect(escalate.status).toBe(403);
    expect(((await escalate.json()) as { error: { message: string } }).error.message).toContain("users:write");
  });

  it("refuses a revoked key at once, and an expired one", async () => {
    const admin = await adminKey(t, ["keys:write"]);
    const other = await adminKey(t, ["users:read"]);
    expect((await admin.call("DELETE", `/keys/${other.id}`)).status).toBe(204);
    expect(await errorCode(await other.call("GET", "/users"))).toBe("invalid_api_key");
    const soon = await adminKey(t, ["users:read"], { expiresAt: clock.now() + 1000 });
    expect((await soon.call("GET", "/users")).status).toBe(200);
    clock.advance(1000);
    expect((await soon.call("GET", "/users")).status).toBe(401);
  });

  it("writes every admin action to the audit trail with the key's id", async () => {
    const admin = await adminKey(t, ["keys:write"]);
    const made = (await (await admin.call("POST", "/keys", { name: "audited", scopes: ["keys:write"] })).json()) as { api_key: { id: string } };
    await admin.call("DELETE", `/keys/${made.api_key.id}`);
    const rows = await t.deps.db.select().from(auditEvents).where(eq(auditEvents.actor, `key:${admin.id}`));
    expect(rows.map((r) => r.type).sort()).toEqual(["admin_key_created", "admin_key_revoked"]);
  });

  it("holds each key to its own request budget", async () => {
    const s = await createTestService({ ipBudget: "strict" });
    const admin = await adminKey(s, ["users:read"]);
    const statuses: number[] = [];
    for (let i = 0; i < 8 && statuses.at(-1) !== 429; i++) statuses.push((await admin.call("GET", "/users")).status);
    expect(statuses.at(-1)).toBe(429);
    // Another key is not held back by it.
    expect((await (await adminKey(s, ["users:read"])).call("GET", "/users")).status).toBe(200);
  });
});
