import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { auditEvents, users } from "../../../src/db/schema.ts";
import { sha256Hex } from "../../../src/lib/crypto/encoding.ts";
import { canonicalMailbox } from "../../../src/limits/mail-budget.ts";
import { adminKey } from "../../support/admin.ts";
import { comparableBody, createConfirmedUser, errorCode, login, PASSWORD, type SessionBody } from "../../support/flows.ts";
import { latestMailTo, mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { codeNow, enrollTotp, nextStep } from "../../support/mfa.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { everyRow, tablesContaining } from "../../support/tables.ts";

// DELETE /admin/v1/users/:id: the owner's erasure (DELETE /v1/me), made by an admin key.

const clock = new TestClock();
let t: TestService;
let admin: Awaited<ReturnType<typeof adminKey>>;
beforeAll(async () => {
  t = await createTestService({ clock });
  admin = await adminKey(t, ["users:read", "users:write", "audit:read"]);
});

const userRow = async (s: TestService, id: string) => (await s.deps.db.select().from(users).where(eq(users.id, id)))[0];

describe("DELETE /admin/v1/users/:id", () => {
  it("erases the user: login and refresh answer 401, and no table holds their personal data", async () => {
    const s = await createTestService({ clock, background: "manual" });
    const key = await adminKey(s, ["users:write", "audit:read"]);
    const ip = "192.0.2.202";
    const userAgent = "AdminDeletionTest/1.0 (unique agent)";
    const as = (path: string, init: Parameters<TestService["request"]>[1] = {}) =>
      s.request(path, { ...init, headers: { "cf-connecting-ip": ip, "user-agent": userAgent } });
    const email = uniqueEmail("admin-erase");
    const name = "Quintus Admin-Erased";
    await as("/v1/register", { method: "POST", json: { email, password: PASSWORD, name } });
    await s.runDeferred();
    const confirmed = await as("/v1/confirm", { method: "POST", json: { token: tokenFrom((await mailsTo(email)).at(-1)), password: PASSWORD } });
    const { user, session } = (await confirmed.json()) as { user: { id: string }; session: SessionBody };
    // Traces in every kind of table: a second factor and its recovery codes, a failed login, a
    // second session, a reset link, a pending email change, mail.
    const { secret } = await enrollTotp(s, session.access_token);
    expect((await s.post("/v1/mfa/totp/activate", { code: await codeNow(s, secret) }, session.access_token)).status).toBe(200);
    nextStep(clock);
    await as("/v1/login", { method: "POST", json: { email, password: "not the password" } });
    await as("/v1/password/forgot", { method: "POST", json: { email } });
    const newEmail = uniqueEmail("admin-erase-new");
    await as("/v1/email/change", { method: "POST", json: { new_email: newEmail, password: PASSWORD }, token: session.access_token });
    await s.runDeferred();
    expect(tablesContaining(await everyRow(s), user.id).length).toBeGreaterThan(4);

    const res = await key.call("DELETE", `/users/${user.id}`);
    expect(res.status).toBe(204);
    await s.runDeferred();
    const mail = await latestMailTo(email, /account was deleted/);
    expect(mail.body.text).toContain("administrators");
    expect(mail.body.text).not.toContain("someone knew your password");

    const after = await everyRow(s);
    const traces = [email, newEmail, name, ip, userAgent, await sha256Hex(email), await sha256Hex(canonicalMailbox(email))];
    for (const trace of traces) expect({ trace, tables: tablesContaining(after, trace) }).toEqual({ trace, tables: [] });
    // The id stays as a tombstone: on the deletion's audit row, which names the key that made it,
    // and on the webhook messages about the person (each redacted to the id).
    expect({ trace: user.id, tables: tablesContaining(after, user.id) }).toEqual({ trace: user.id, tables: ["audit_events", "webhook_messages"] });
    const audit = await s.deps.db.select().from(auditEvents).where(eq(auditEvents.userId, user.id));
    expect(audit.map((row) => ({ type: row.type, actor: row.actor }))).toEqual([{ type: "admin_user_deleted", actor: `key:${key.id}` }]);
    const trail = (await (await key.call("GET", `/users/${user.id}/events`)).json()) as { events: Array<{ type: string; actor: string }> };
    expect(trail.events.map((e) => [e.type, e.actor])).toEqual([["admin_user_deleted", `key:${key.id}`]]);

    const loginRes = await s.post("/v1/login", { email, password: PASSWORD });
    expect([loginRes.status, await errorCode(loginRes)]).toEqual([401, "invalid_credentials"]);
    expect((await s.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(401);
    expect((await s.request("/v1/me/events", { token: session.access_token })).status).toBe(401);
  });

  it("lets the address register again as a new account", async () => {
    const { email, userId } = await createConfirmedUser(t, "again");
    expect((await admin.call("DELETE", `/users/${userId}`)).status).toBe(204);
    expect((await t.post("/v1/register", { email, password: PASSWORD })).status).toBe(202);
    await t.settle();
    const confirmed = await t.post("/v1/confirm", { token: tokenFrom((await mailsTo(email)).at(-1)), password: PASSWORD });
    expect(confirmed.status).toBe(200);
    expect(((await confirmed.json()) as { user: { id: string } }).user.id).not.toBe(userId);
  });

  it("answers 404 not_found for an unknown id and for a user already deleted", async () => {
    const unknown = await admin.call("DELETE", "/users/no-such-user");
    expect([unknown.status, await errorCode(unknown)]).toEqual([404, "not_found"]);
    const { userId } = await createConfirmedUser(t, "twice");
    expect((await admin.call("DELETE", `/users/${userId}`)).status).toBe(204);
    const twice = await admin.call("DELETE", `/users/${userId}`);
    expect(await comparableBody(twice)).toEqual({ error: { code: "not_found", message: "No user with that id." } });
    expect((await admin.call("GET", `/users/${userId}`)).status).toBe(404);
  });

  it("needs users:write (403 insufficient_scope naming it) and a live key (401 invalid_api_key), and then changes nothing", async () => {
    const { email, userId } = await createConfirmedUser(t, "kept");
    const reader = await adminKey(t, ["users:read", "sessions:write"]);
    const refused = await reader.call("DELETE", `/users/${userId}`);
    expect(refused.status).toBe(403);
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("insufficient_scope");
    expect(error.message).toContain("users:write");

    const revoking = await adminKey(t, ["keys:write"]);
    const writer = await adminKey(t, ["users:write"]);
    expect((await revoking.call("DELETE", `/keys/${writer.id}`)).status).toBe(204);
    const revoked = await writer.call("DELETE", `/users/${userId}`);
    expect([revoked.status, await errorCode(revoked)]).toEqual([401, "invalid_api_key"]);

    expect(await userRow(t, userId)).toBeDefined();
    await login(t, email);
  });
});
