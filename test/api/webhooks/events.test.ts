import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { decodeJwt } from "jose";
import { mfaDisabled, mfaEnabled, userDisabled, userUpdated } from "../../../src/auth/events.ts";
import { REFRESH_RETRY_GRACE_SECONDS } from "../../../src/auth/sessions.ts";
import { users } from "../../../src/db/schema.ts";
import { deliverDueWebhooks } from "../../../src/webhooks/deliver.ts";
import { fanOut } from "../../../src/webhooks/messages.ts";
import type { EmittedEvent } from "../../../src/webhooks/types.ts";
import { createConfirmedUser, login, PASSWORD, type SessionBody } from "../../support/flows.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { newReceiver, serviceWithReceivers, type Receiver, type WebhookPayload } from "../../support/receivers.ts";
import type { TestClock, TestService } from "../../support/service.ts";

// Every event is written by its flow, in the flow's batch, and reaches a receiver that verifies it
// with the standardwebhooks package.

let t: TestService;
let clock: TestClock;
let all: Receiver;
let revocations: Receiver;

beforeAll(async () => {
  all = await newReceiver("events");
  revocations = await newReceiver("revocations");
  ({ t, clock } = await serviceWithReceivers([all, { receiver: revocations, events: ["session.revoked"] }]));
});

const sid = (session: SessionBody) => decodeJwt(session.access_token).sid as string;

/**
 * What `receiver` accepted about this user, in the order of data.sequence: one request's events are
 * sent concurrently and may arrive in any order, so receivers order them by it.
 */
async function eventsFor(receiver: Receiver, userId: string): Promise<WebhookPayload[]> {
  await t.settle();
  return (await receiver.accepted()).filter((p) => p.data.user.id === userId).sort((a, b) => a.data.sequence - b.data.sequence);
}

const typesOf = (payloads: WebhookPayload[]) => payloads.map((p) => p.type);

async function confirmedUser(label: string) {
  const user = await createConfirmedUser(t, label);
  await t.settle();
  return { ...user, seen: (await eventsFor(all, user.userId)).length };
}

async function newEvents(userId: string, seen: number) {
  return (await eventsFor(all, userId)).slice(seen);
}

describe("sign-up", () => {
  it("announces nothing at registration: a pending registration may be a stranger's", async () => {
    const email = uniqueEmail("pending");
    expect((await t.post("/v1/register", { email, password: PASSWORD })).status).toBe(202);
    await t.settle();
    expect((await all.requests()).filter((r) => r.body.includes(email))).toEqual([]);
  });

  it("announces user.created, user.confirmed and session.created (confirm) at confirmation, with the user as the API shows them", async () => {
    const email = uniqueEmail("confirm");
    expect((await t.post("/v1/register", { email, password: PASSWORD, name: "Ana" })).status).toBe(202);
    await t.settle();
    const res = await t.post("/v1/confirm", { token: tokenFrom((await mailsTo(email)).at(-1)), password: PASSWORD });
    expect(res.status).toBe(200);
    const { user, session } = (await res.json()) as { user: { id: string }; session: SessionBody };

    const events = await eventsFor(all, user.id);
    expect(typesOf(events)).toEqual(["user.created", "user.confirmed", "session.created"]);
    const timestamp = new Date(clock.now()).toISOString();
    for (const event of events) {
      expect(event.timestamp).toBe(timestamp);
      expect(event.data.user).toEqual(user);
      expect(event.data.event_id).toMatch(/^msg_[0-9a-f]{32}$/);
    }
    expect(events[0]!.data).toEqual({ event_id: expect.any(String), sequence: expect.any(Number), user });
    expect(events[2]!.data).toMatchObject({ session_id: sid(session), reason: "confirm" });
    const sequences = events.map((e) => e.data.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(3);
  });
});

describe("sessions", () => {
  it("announces session.created (login) for each login", async () => {
    const { email, userId, seen } = await confirmedUser("login");
    const session = await login(t, email);
    const events = await newEvents(userId, seen);
    expect(events.map((e) => [e.type, e.data.session_id, e.data.reason])).toEqual([["session.created", sid(session), "login"]]);
  });

  it("announces session.revoked (logout) once, and nothing for a second logout with the same token", async () => {
    const { session, userId, seen } = await confirmedUser("logout");
    expect((await t.post("/v1/logout", {}, session.access_token)).status).toBe(204);
    expect((await t.post("/v1/logout", {}, session.access_token)).status).toBe(401);
    const events = await newEvents(userId, seen);
    expect(events.map((e) => [e.type, e.data.session_ids, e.data.reason])).toEqual([["session.revoked", [sid(session)], "logout"]]);
  });

  it("lists every live session in one session.revoked (logout_all)", async () => {
    const { email, session, userId, seen } = await confirmedUser("logout-all");
    clock.advance(1000);
    const second = await login(t, email);
    clock.advance(1000);
    const third = await login(t, email);
    expect((await t.post("/v1/logout", { all: true }, second.access_token)).status).toBe(204);
    const events = (await newEvents(userId, seen)).filter((e) => e.type === "session.revoked");
    expect(events.map((e) => [e.data.session_ids, e.data.reason])).toEqual([[[sid(session), sid(second), sid(third)], "logout_all"]]);
  });

  it("announces session.revoked (ended_by_owner) when the owner ends one session by its id, and nothing for an id that is not theirs", async () => {
    const { email, session, userId, seen } = await confirmedUser("end-one");
    clock.advance(1000);
    const other = await login(t, email);
    const stranger = await confirmedUser("end-one-stranger");
    expect((await t.request(`/v1/sessions/${sid(stranger.session)}`, { method: "DELETE", token: session.access_token })).status).toBe(404);
    expect((await t.request(`/v1/sessions/${sid(other)}`, { method: "DELETE", token: session.access_token })).status).toBe(204);
    expect((await t.request(`/v1/sessions/${sid(other)}`, { method: "DELETE", token: session.access_token })).status).toBe(404);
    const events = (await newEvents(userId, seen)).filter((e) => e.type === "session.revoked");
    expect(events.map((e) => [e.data.session_ids, e.data.reason])).toEqual([[[sid(other)], "ended_by_owner"]]);
    expect(await newEvents(stranger.userId, stranger.seen)).toEqual([]);
  });

  it("announces nothing for a refresh nor its retry, and session.revoked (refresh_reuse) when a rotated token comes back later", async () => {
    const { session, userId, seen } = await confirmedUser("reuse");
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(200);
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(200);
    expect(await newEvents(userId, seen)).toEqual([]);
    clock.advance((REFRESH_RETRY_GRACE_SECONDS + 1) * 1000);
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(401);
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(401);
    const events = await newEvents(userId, seen);
    expect(events.map((e) => [e.type, e.data.session_ids, e.data.reason])).toEqual([["session.revoked", [sid(session)], "refresh_reuse"]]);
  });
});

describe("passwords", () => {
  async function resetToken(email: string) {
    expect((await t.post("/v1/password/forgot", { email })).status).toBe(202);
    await t.settle();
    return tokenFrom((await mailsTo(email)).filter((m) => m.body.text?.includes("/reset#token=")).at(-1));
  }

  it("announces password.reset and the sessions it ended (password_reset)", async () => {
    const { email, session, userId, seen } = await confirmedUser("reset");
    clock.advance(1000);
    const other = await login(t, email);
    const token = await resetToken(email);
    expect((await t.post("/v1/password/reset", { token, password: "a brand new passphrase" })).status).toBe(200);
    const events = (await newEvents(userId, seen)).filter((e) => e.type !== "session.created");
    expect(events.map((e) => [e.type, e.data.session_ids ?? null, e.data.reason ?? null])).toEqual([
      ["password.reset", null, null],
      ["session.revoked", [sid(session), sid(other)], "password_reset"],
    ]);
  });

  it("announces no session.revoked when a reset ends no session", async () => {
    const { email, session, userId } = await confirmedUser("reset-none");
    expect((await t.post("/v1/logout", {}, session.access_token)).status).toBe(204);
    await t.settle();
    const seen = (await eventsFor(all, userId)).length;
    const token = await resetToken(email);
    expect((await t.post("/v1/password/reset", { token, password: "a brand new passphrase" })).status).toBe(200);
    expect(typesOf(await newEvents(userId, seen))).toEqual(["password.reset"]);
  });

  it("announces password.changed, every session ended (the caller's too) and the new one, in that order", async () => {
    const { email, session, userId, seen } = await confirmedUser("change");
    clock.advance(1000);
    const other = await login(t, email);
    const res = await t.post("/v1/password/change", { current_password: PASSWORD, new_password: "another fine passphrase" }, session.access_token);
    expect(res.status).toBe(200);
    const fresh = ((await res.json()) as { session: SessionBody }).session;
    const events = (await newEvents(userId, seen)).slice(1); // after other's login
    expect(events.map((e) => [e.type, e.data.session_ids ?? e.data.session_id, e.data.reason ?? null])).toEqual([
      ["password.changed", undefined, null],
      ["session.revoked", [sid(session), sid(other)], "password_changed"],
      ["session.created", sid(fresh), "password_change"],
    ]);
  });

  it("announces nothing for a wrong current password", async () => {
    const { session, userId, seen } = await confirmedUser("change-wrong");
    const res = await t.post("/v1/password/change", { current_password: "not the password", new_password: "another fine passphrase" }, session.access_token);
    expect(res.status).toBe(401);
    expect(await newEvents(userId, seen)).toEqual([]);
  });
});

describe("events for flows to come (profile)", () => {
  // Committed the way commitWithEvents does: the change, the event, the fan-out, in one batch.
  async function commit(change: BatchItem<"sqlite"> | null, event: EmittedEvent) {
    const db = t.deps.db;
    const fan = fanOut(t.deps, [event], clock.now());
    if (change === null) await db.batch([event.write, fan]);
    else await db.batch([change, event.write, fan]);
    await deliverDueWebhooks(t.deps);
  }

  it("carries each event's own fields with the user as the batch left them", async () => {
    const { userId, email, seen } = await confirmedUser("later");
    const db = t.deps.db;
    const now = clock.now();
    await commit(db.update(users).set({ name: "Ana María", updatedAt: now }).where(eq(users.id, userId)), userUpdated(db, userId, ["name"], now));
    await commit(null, mfaEnabled(db, userId, "totp", now));
    await commit(null, mfaDisabled(db, userId, "totp", now));
    await commit(db.update(users).set({ disabledAt: now }).where(eq(users.id, userId)), userDisabled(db, userId, "requested by the owner", now));

    const events = await newEvents(userId, seen);
    expect(events.map(({ type, data: { event_id: _id, sequence: _seq, user, ...own } }) => [type, user.name, user.email, own])).toEqual([
      ["user.updated", "Ana María", email, { changed: ["name"] }],
      ["mfa.enabled", "Ana María", email, { method: "totp" }],
      ["mfa.disabled", "Ana María", email, { method: "totp" }],
      ["user.disabled", "Ana María", email, { reason: "requested by the owner" }],
    ]);
  });

  it("writes nothing for a user that does not exist", async () => {
    const before = (await all.requests()).length;
    await commit(null, userUpdated(t.deps.db, "no-such-user", ["name"], clock.now()));
    expect((await all.requests()).length).toBe(before);
  });
});

describe("every message", () => {
  it("was accepted by the receiver's standardwebhooks verification, once per webhook-id", async () => {
    await t.settle();
    const requests = await all.requests();
    expect(requests.length).toBeGreaterThan(20);
    expect(requests.filter((r) => r.verdict !== "accepted")).toEqual([]);
    expect(requests.filter((r) => r.duplicate)).toEqual([]);
    for (const request of requests) {
      const payload = JSON.parse(request.body) as WebhookPayload;
      expect(request.webhookId).toBe(payload.data.event_id);
      expect(request.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    }
  });

  it("holds no password hash, token or secret", async () => {
    await t.settle();
    const bodies = (await all.requests()).map((r) => r.body).join("\n");
    const hashes = (await t.deps.db.select({ hash: users.passwordHash }).from(users)).map((u) => u.hash);
    expect(hashes.length).toBeGreaterThan(0);
    for (const hash of hashes) expect(bodies).not.toContain(hash);
    expect(bodies).not.toMatch(/password_hash|passwordHash|refresh_token|access_token|whsec_|"token"/);
    // Tokens and hashes are long base64url or hex runs; ids are uuids (hex with dashes) or msg_<hex>.
    expect(bodies).not.toMatch(/[A-Za-z0-9_-]{43}|[0-9a-f]{64}/);
  });

  it("goes only to endpoints that want its type", async () => {
    await t.settle();
    const types = new Set((await revocations.accepted()).map((p) => p.type));
    expect([...types]).toEqual(["session.revoked"]);
  });
});
