import { beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { adminKey } from "../../support/admin.ts";
import { createConfirmedUser, login, type SessionBody } from "../../support/flows.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { newReceiver, serviceWithReceivers, type Receiver, type WebhookPayload } from "../../support/receivers.ts";
import type { TestClock, TestService } from "../../support/service.ts";

// The events of the admin API's flows (src/routes/admin-users.ts) and of accepting an invitation.

let t: TestService;
let clock: TestClock;
let receiver: Receiver;
let admin: Awaited<ReturnType<typeof adminKey>>;

beforeAll(async () => {
  receiver = await newReceiver("admin-events");
  ({ t, clock } = await serviceWithReceivers([receiver]));
  admin = await adminKey(t, ["users:read", "users:write", "sessions:write"]);
});

const sid = (session: SessionBody) => decodeJwt(session.access_token).sid as string;

async function eventsFor(userId: string): Promise<WebhookPayload[]> {
  await t.settle();
  return (await receiver.accepted()).filter((p) => p.data.user.id === userId).sort((a, b) => a.data.sequence - b.data.sequence);
}

async function confirmed(label: string) {
  const user = await createConfirmedUser(t, label);
  await t.settle();
  return { ...user, seen: (await eventsFor(user.userId)).length };
}

const summary = (events: WebhookPayload[]) =>
  events.map(({ type, data: { event_id: _id, sequence: _seq, user: _user, ...own } }) => [type, own]);

describe("an invitation", () => {
  it("announces user.created (not confirmed) when the admin API makes the account, and password.reset and user.confirmed when it is accepted", async () => {
    const email = uniqueEmail("invited");
    const res = await admin.call("POST", "/users", { email, name: "Ivy" });
    expect(res.status).toBe(201);
    const { user } = (await res.json()) as { user: { id: string } };
    const [created] = await eventsFor(user.id);
    expect(created).toMatchObject({ type: "user.created", data: { user: { id: user.id, email, name: "Ivy", email_confirmed: false } } });

    const token = tokenFrom((await mailsTo(email)).at(-1));
    expect((await t.post("/v1/password/reset", { token, password: "ivy's chosen passphrase" })).status).toBe(200);
    const events = (await eventsFor(user.id)).slice(1);
    expect(summary(events)).toEqual([
      ["password.reset", {}],
      ["user.confirmed", {}],
    ]);
    expect(events[1]!.data.user.email_confirmed).toBe(true);
  });

  it("announces no user.confirmed for a reset of an account confirmed already", async () => {
    const { email, userId, session, seen } = await confirmed("reset-confirmed");
    expect((await t.post("/v1/logout", {}, session.access_token)).status).toBe(204);
    expect((await t.post("/v1/password/forgot", { email })).status).toBe(202);
    await t.settle();
    const token = tokenFrom((await mailsTo(email)).filter((m) => m.body.text?.includes("/reset#token=")).at(-1));
    expect((await t.post("/v1/password/reset", { token, password: "a brand new passphrase" })).status).toBe(200);
    expect(summary((await eventsFor(userId)).slice(seen))).toEqual([
      ["session.revoked", { session_ids: [sid(session)], reason: "logout" }],
      ["password.reset", {}],
    ]);
  });
});

describe("PATCH /admin/v1/users/:id", () => {
  it("announces user.updated naming the fields that changed, with the user as changed", async () => {
    const { userId, seen } = await confirmed("patched");
    expect((await admin.call("PATCH", `/users/${userId}`, { name: "Ana María", roles: ["user", "staff"] })).status).toBe(200);
    expect((await admin.call("PATCH", `/users/${userId}`, { name: "Ana María" })).status).toBe(200);
    const events = (await eventsFor(userId)).slice(seen);
    expect(summary(events)).toEqual([["user.updated", { changed: ["name", "roles"] }]]);
    expect(events[0]!.data.user).toMatchObject({ name: "Ana María", roles: ["user", "staff"] });
  });

  it("announces user.disabled and the sessions it ended when disabling, and user.updated (disabled) when enabling again", async () => {
    const { email, userId, session, seen } = await confirmed("disabled");
    clock.advance(1000);
    const other = await login(t, email);
    expect((await admin.call("PATCH", `/users/${userId}`, { disabled: true })).status).toBe(200);
    expect((await admin.call("PATCH", `/users/${userId}`, { disabled: false })).status).toBe(200);
    expect(summary((await eventsFor(userId)).slice(seen + 1))).toEqual([
      ["user.disabled", { reason: "admin" }],
      ["session.revoked", { session_ids: [sid(session), sid(other)], reason: "user_disabled" }],
      ["user.updated", { changed: ["disabled"] }],
    ]);
  });
});

describe("DELETE /admin/v1/users/:id/sessions", () => {
  it("announces session.revoked (admin) for one session, for all, and nothing when none is live", async () => {
    const { email, userId, session, seen } = await confirmed("admin-revoke");
    clock.advance(1000);
    const second = await login(t, email);
    clock.advance(1000);
    const third = await login(t, email);
    expect((await admin.call("DELETE", `/users/${userId}/sessions/${sid(second)}`)).status).toBe(204);
    expect((await admin.call("DELETE", `/users/${userId}/sessions/${sid(second)}`)).status).toBe(404);
    expect((await admin.call("DELETE", `/users/${userId}/sessions`)).status).toBe(204);
    expect((await admin.call("DELETE", `/users/${userId}/sessions`)).status).toBe(204);
    expect(summary((await eventsFor(userId)).slice(seen + 2))).toEqual([
      ["session.revoked", { session_ids: [sid(second)], reason: "admin" }],
      ["session.revoked", { session_ids: [sid(session), sid(third)], reason: "admin" }],
    ]);
  });
});
