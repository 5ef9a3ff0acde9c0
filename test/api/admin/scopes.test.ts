import { beforeAll, describe, expect, it } from "vitest";
import { operations } from "../../../src/contract/operations.ts";
import { webhookEndpoints, type ApiScope } from "../../../src/db/schema.ts";
import { adminKey } from "../../support/admin.ts";
import { createConfirmedUser, errorCode } from "../../support/flows.ts";
import { createTestService, type TestService } from "../../support/service.ts";

// Every admin operation, each with the one scope it needs: a key holding every other scope is
// refused with 403 insufficient_scope naming it, and a revoked key holding them all with 401.
// Nothing is changed by either: the user, keys and sessions are all still there afterwards.

const ALL_SCOPES: ApiScope[] = ["users:read", "users:write", "sessions:write", "webhooks:read", "webhooks:write", "keys:write", "audit:read"];

const NEEDS: Record<string, ApiScope> = {
  "get /admin/v1/users": "users:read",
  "post /admin/v1/users": "users:write",
  "get /admin/v1/users/{id}": "users:read",
  "patch /admin/v1/users/{id}": "users:write",
  "delete /admin/v1/users/{id}": "users:write",
  "post /admin/v1/users/{id}/mfa/reset": "users:write",
  "get /admin/v1/users/{id}/sessions": "users:read",
  "delete /admin/v1/users/{id}/sessions": "sessions:write",
  "delete /admin/v1/users/{id}/sessions/{sid}": "sessions:write",
  "get /admin/v1/users/{id}/events": "audit:read",
  "delete /admin/v1/users/{id}/suppression": "users:write",
  "post /admin/v1/keys": "keys:write",
  "get /admin/v1/keys": "keys:write",
  "delete /admin/v1/keys/{id}": "keys:write",
  "get /admin/v1/webhooks/endpoints": "webhooks:read",
  "post /admin/v1/webhooks/endpoints": "webhooks:write",
  "get /admin/v1/webhooks/endpoints/{id}": "webhooks:read",
  "patch /admin/v1/webhooks/endpoints/{id}": "webhooks:write",
  "delete /admin/v1/webhooks/endpoints/{id}": "webhooks:write",
  "post /admin/v1/webhooks/endpoints/{id}/rotate-secret": "webhooks:write",
  "get /admin/v1/webhooks/endpoints/{id}/messages": "webhooks:read",
  "get /admin/v1/webhooks/endpoints/{id}/messages/{messageId}/attempts": "webhooks:read",
  "post /admin/v1/webhooks/endpoints/{id}/messages/{messageId}/replay": "webhooks:write",
  "post /admin/v1/webhooks/endpoints/{id}/replay": "webhooks:write",
};

const BODIES: Record<string, unknown> = {
  "post /admin/v1/users": { email: "scoped-invite@example.test" },
  "patch /admin/v1/users/{id}": { disabled: true },
  "post /admin/v1/users/{id}/mfa/reset": {},
  "post /admin/v1/keys": { name: "scoped", scopes: ["users:read"] },
  "post /admin/v1/webhooks/endpoints": { url: "https://hooks.example.com/scoped" },
  "patch /admin/v1/webhooks/endpoints/{id}": { enabled: false },
  "post /admin/v1/webhooks/endpoints/{id}/rotate-secret": {},
  "post /admin/v1/webhooks/endpoints/{id}/messages/{messageId}/replay": {},
  "post /admin/v1/webhooks/endpoints/{id}/replay": { since: "2026-01-01T00:00:00Z" },
};

const adminOperations = operations().filter((op) => op.security === "admin").map((op) => `${op.method} ${op.path}`);

let t: TestService;
let user: Awaited<ReturnType<typeof createConfirmedUser>>;
let revoked: Awaited<ReturnType<typeof adminKey>>;
let target: Awaited<ReturnType<typeof adminKey>>;

beforeAll(async () => {
  t = await createTestService();
  user = await createConfirmedUser(t, "scoped");
  target = await adminKey(t, ["users:read"]);
  revoked = await adminKey(t, ALL_SCOPES);
  const keys = await adminKey(t, ["keys:write"]);
  expect((await keys.call("DELETE", `/keys/${revoked.id}`)).status).toBe(204);
});

function pathOf(template: string): string {
  return template
    .replace("/admin/v1", "")
    .replace("{sid}", "no-such-session")
    .replace("{messageId}", "msg_none")
    .replace("/keys/{id}", `/keys/${target.id}`)
    .replace("{id}", user.userId);
}

describe("the admin API's scopes", () => {
  it("are named for every admin operation of the contract", () => {
    expect(adminOperations.sort()).toEqual(Object.keys(NEEDS).sort());
  });

  it.each(Object.entries(NEEDS))("%s needs %s: 403 insufficient_scope without it, 401 invalid_api_key for a revoked key", async (operation, scope) => {
    const [method, template] = operation.split(" ") as [string, string];
    const others = await adminKey(t, ALL_SCOPES.filter((s) => s !== scope));
    const refused = await others.call(method.toUpperCase(), pathOf(template), BODIES[operation]);
    expect(refused.status).toBe(403);
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("insufficient_scope");
    expect(error.message).toContain(scope);

    const gone = await revoked.call(method.toUpperCase(), pathOf(template), BODIES[operation]);
    expect([gone.status, await errorCode(gone)]).toEqual([401, "invalid_api_key"]);
  });

  it("left everything as it was", async () => {
    const reader = await adminKey(t, ["users:read", "keys:write"]);
    const res = await reader.call("GET", `/users/${user.userId}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { user: { disabled: boolean; sessions_count: number } }).user).toMatchObject({ disabled: false, sessions_count: 1 });
    const { api_keys } = (await (await reader.call("GET", "/keys")).json()) as { api_keys: Array<{ id: string; revoked_at: string | null }> };
    expect(api_keys.find((k) => k.id === target.id)?.revoked_at).toBeNull();
    expect(await t.deps.db.select().from(webhookEndpoints)).toEqual([]);
  });
});
