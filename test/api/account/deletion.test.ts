import { beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/lib/crypto/encoding.ts";
import { canonicalMailbox } from "../../../src/limits/mail-budget.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { latestMailTo, mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { createConfirmedUser, errorCode, login, PASSWORD, type SessionBody } from "../../support/flows.ts";
import { everyRow, tablesContaining } from "../../support/tables.ts";

const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  t = await createTestService({ clock });
});

const remove = (s: TestService, token: string, password = PASSWORD) => s.request("/v1/me", { method: "DELETE", json: { password }, token });

describe("DELETE /v1/me", () => {
  it("erases the account: login answers 401 and no table holds anything of the person", async () => {
    const s = await createTestService({ clock, background: "manual" });
    const ip = "192.0.2.201";
    const userAgent = "DeletionTest/1.0 (unique agent)";
    const as = (path: string, init: Parameters<TestService["request"]>[1] = {}) =>
      s.request(path, { ...init, headers: { "cf-connecting-ip": ip, "user-agent": userAgent } });
    const email = uniqueEmail("erase");
    const name = "Zelda Quixotic";
    await as("/v1/register", { method: "POST", json: { email, password: PASSWORD, name } });
    await s.runDeferred();
    const confirmed = await as("/v1/confirm", { method: "POST", json: { token: tokenFrom((await mailsTo(email)).at(-1)), password: PASSWORD } });
    const { user, session } = (await confirmed.json()) as { user: { id: string }; session: SessionBody };
    // Leave traces everywhere: a failed login, a second session, a reset link, a pending email change,
    // someone else's pending registration for the address is impossible (it is taken), mail.
    await as("/v1/login", { method: "POST", json: { email, password: "not the password" } });
    await as("/v1/login", { method: "POST", json: { email, password: PASSWORD } });
    await as("/v1/password/forgot", { method: "POST", json: { email } });
    const newEmail = uniqueEmail("erase-new");
    await as("/v1/email/change", { method: "POST", json: { new_email: newEmail, password: PASSWORD }, token: session.access_token });
    await s.runDeferred();
    const before = await everyRow(s);
    expect(tablesContaining(before, email).length).toBeGreaterThan(2);

    const res = await as("/v1/me", { method: "DELETE", json: { password: PASSWORD }, token: session.access_token });
    expect(res.status).toBe(204);

    // Until the confirmation mail is sent, its row is the one place the address is.
    expect(tablesContaining(await everyRow(s), email)).toEqual(["outbox"]);
    await s.runDeferred();
    const mail = await latestMailTo(email, /account was deleted/);
    expect(mail.body.text).toContain(name);

    const after = await everyRow(s);
    const traces = [email, newEmail, name, ip, userAgent, await sha256Hex(email), await sha256Hex(canonicalMailbox(email))];
    for (const trace of traces) expect({ trace, tables: tablesContaining(after, trace) }).toEqual({ trace, tables: [] });
    // The random id stays only where integrators need it to know whose data to drop: the webhook
    // messages about the person, each redacted to that id.
    expect({ trace: user.id, tables: tablesContaining(after, user.id) }).toEqual({ trace: user.id, tables: ["webhook_messages"] });
    expect(after.webhook_messages).not.toContain('"email"');
    // What stays: that things happened, and when.
    expect(after.audit_events).toContain("account_deleted");

    // (After the search: a login attempt counts failures under a hash of whatever address it names.)
    expect((await s.post("/v1/login", { email, password: PASSWORD })).status).toBe(401);
    expect((await s.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(401);
  });

  it("needs the password, guarded like login, and changes nothing without it", async () => {
    const { email, session } = await createConfirmedUser(t, "keep");
    for (let i = 0; i < t.deps.config.loginLockoutThreshold; i++) {
      const res = await remove(t, session.access_token, `wrong guess ${i}`);
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe("invalid_credentials");
    }
    expect((await remove(t, session.access_token)).status).toBe(429);
    clock.advance(t.deps.config.loginLockoutBaseSeconds * 1000);
    await login(t, email);
  });

  it("needs a live session and a body", async () => {
    const { session } = await createConfirmedUser(t, "no-body");
    const bare = await t.request("/v1/me", { method: "DELETE", token: session.access_token });
    expect([bare.status, await errorCode(bare)]).toEqual([400, "validation_failed"]);
    await t.post("/v1/logout", {}, session.access_token);
    expect((await remove(t, session.access_token)).status).toBe(401);
  });

  it("costs two round trips", async () => {
    const s = await createTestService({ background: "manual" });
    const { session } = await createConfirmedUser(s, "trips");
    expect(await s.measureTrips(() => remove(s, session.access_token))).toEqual({ status: 204, used: 2 });
  });
});

describe("GET /v1/me/export", () => {
  it("returns the caller's account, sessions and audit trail as JSON, in one round trip", async () => {
    const s = await createTestService({ background: "manual" });
    const { email, userId, session } = await createConfirmedUser(s, "export");
    await s.post("/v1/login", { email, password: "not it" });
    const second = await login(s, email);
    await s.post("/v1/logout", {}, second.access_token);
    const measured = await s.measureTrips(() => s.request("/v1/me/export", { token: session.access_token }));
    expect(measured).toEqual({ status: 200, used: 1 });
    const res = await s.request("/v1/me/export", { token: session.access_token });
    expect(res.headers.get("content-disposition")).toContain("attachment");
    const body = (await res.json()) as {
      account: Record<string, unknown>;
      sessions: Array<Record<string, unknown>>;
      audit_events: Array<{ type: string }>;
    };
    expect(body.account).toMatchObject({ id: userId, email, name: "Ana", locale: "en", roles: ["user"] });
    expect(body.account).not.toHaveProperty("password_hash");
    expect(JSON.stringify(body)).not.toMatch(/pbkdf2|token_hash/i);
    expect(body.sessions).toHaveLength(2);
    expect(body.sessions.find((x) => x.current)).toMatchObject({ ended_at: null, ip: "203.0.113.7" });
    expect(body.sessions.find((x) => !x.current)).toMatchObject({ ended_because: "logout" });
    expect(body.audit_events.map((e) => e.type)).toEqual(["registered", "email_confirmed", "login_failed", "login_succeeded", "logged_out"]);
  });

  it("answers 401 once the session has ended", async () => {
    const { session } = await createConfirmedUser(t, "export-ended");
    await t.post("/v1/logout", {}, session.access_token);
    expect((await t.request("/v1/me/export", { token: session.access_token })).status).toBe(401);
  });
});
