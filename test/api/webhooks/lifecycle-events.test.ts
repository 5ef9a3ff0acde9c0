import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { decodeJwt } from "jose";
import { webhookMessages } from "../../../src/db/schema.ts";
import { responseSchemas } from "../../../src/contract/responses.ts";
import { MAIL_MIN_INTERVAL_MS } from "../../../src/limits/mail-budget.ts";
import { adminKey } from "../../support/admin.ts";
import { createConfirmedUser, login, PASSWORD, type SessionBody } from "../../support/flows.ts";
import { latestMailTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { newReceiver, serviceWithReceivers, type Receiver, type WebhookPayload } from "../../support/receivers.ts";
import type { TestService } from "../../support/service.ts";

// The account lifecycle's events: an address changed (confirmed from the new mailbox, or undone
// from the old one) and an account erased (by its owner or through the admin API). The receiver
// stand-in verifies every message with the standardwebhooks package; accepted() is what it accepted.

const CONFIRM_SUBJECT = /Confirm your new email address/;
const NOTICE_SUBJECT = /email address is being changed/;

let t: TestService;
let advance: (ms: number) => Promise<void>;
let receiver: Receiver;
let admin: Awaited<ReturnType<typeof adminKey>>;

beforeAll(async () => {
  receiver = await newReceiver("lifecycle");
  ({ t, advance } = await serviceWithReceivers([receiver]));
  admin = await adminKey(t, ["users:write"]);
});

const sid = (session: SessionBody) => decodeJwt(session.access_token).sid as string;

async function eventsFor(userId: string): Promise<WebhookPayload[]> {
  await t.settle();
  return (await receiver.accepted()).filter((p) => p.data.user.id === userId).sort((a, b) => a.data.sequence - b.data.sequence);
}

const summary = (events: WebhookPayload[]) =>
  events.map(({ type, data: { event_id: _id, sequence: _seq, user: _user, ...own } }) => [type, own]);

/** A confirmed user, with a second session opened a second later, and how many events they have had. */
async function userWithTwoSessions(label: string) {
  const user = await createConfirmedUser(t, label);
  await advance(1000);
  const other = await login(t, user.email);
  return { ...user, other, seen: (await eventsFor(user.userId)).length };
}

/** Asks to move the account to a new address; the new mailbox's link and the old one's undo link. */
async function askChange(session: SessionBody, email: string) {
  await advance(MAIL_MIN_INTERVAL_MS);
  const next = uniqueEmail("lifecycle-new");
  expect((await t.post("/v1/email/change", { new_email: next, password: PASSWORD }, session.access_token)).status).toBe(202);
  await t.settle();
  return { next, confirm: tokenFrom(await latestMailTo(next, CONFIRM_SUBJECT)), undo: tokenFrom(await latestMailTo(email, NOTICE_SUBJECT)) };
}

describe("an email change", () => {
  it("announces email.changed (confirmed) with the new address and the previous one, then the other sessions it ended", async () => {
    const { email, userId, session, other, seen } = await userWithTwoSessions("change");
    const { next, confirm } = await askChange(session, email);
    expect(await eventsFor(userId)).toHaveLength(seen);
    expect((await t.post("/v1/email/change/confirm", { token: confirm })).status).toBe(200);
    const events = (await eventsFor(userId)).slice(seen);
    expect(summary(events)).toEqual([
      ["email.changed", { previous_email: email, reason: "confirmed" }],
      ["session.revoked", { session_ids: [sid(other)], reason: "email_changed" }],
    ]);
    for (const event of events) expect(event.data.user).toMatchObject({ id: userId, email: next, name: "Ana", email_confirmed: true });
  });

  it("announces email.changed (reverted) with the restored address when the old one undoes it, then every session it ended", async () => {
    const { email, userId, session, seen } = await userWithTwoSessions("revert");
    const { next, confirm, undo } = await askChange(session, email);
    expect((await t.post("/v1/email/change/confirm", { token: confirm })).status).toBe(200);
    const moved = (await eventsFor(userId)).length;
    expect(moved).toBe(seen + 2);
    const third = await login(t, next);
    expect((await t.post("/v1/email/change/revert", { token: undo })).status).toBe(200);
    const events = (await eventsFor(userId)).slice(moved + 1); // after the third session's session.created
    expect(summary(events)).toEqual([
      ["email.changed", { previous_email: next, reason: "reverted" }],
      ["session.revoked", { session_ids: [sid(session), sid(third)], reason: "email_reverted" }],
    ]);
    for (const event of events) expect(event.data.user).toMatchObject({ id: userId, email });
  });

  it("announces nothing when the old address cancels a change that has not happened, nor for a link used twice", async () => {
    const { email, userId, session, seen } = await userWithTwoSessions("cancel");
    const { confirm, undo } = await askChange(session, email);
    expect((await t.post("/v1/email/change/revert", { token: undo })).status).toBe(200);
    expect((await t.post("/v1/email/change/confirm", { token: confirm })).status).toBe(400);
    expect((await t.post("/v1/email/change/revert", { token: undo })).status).toBe(400);
    expect(await eventsFor(userId)).toHaveLength(seen);
  });
});

describe("deleting an account", () => {
  // Everything the erasure leaves of the person's messages, as stored for later deliveries and replays.
  async function storedMessages(userId: string) {
    const rows = await t.deps.db.select().from(webhookMessages).where(eq(webhookMessages.userId, userId));
    return rows.map((row) => ({ type: row.type, data: JSON.parse(row.data) as Record<string, unknown> }));
  }

  async function expectErasureAnnounced(userId: string, sessionIds: string[], seen: number) {
    const events = (await eventsFor(userId)).slice(seen);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ["user.deleted", { event_id: expect.any(String), sequence: expect.any(Number), user: { id: userId } }],
      ["session.revoked", { event_id: expect.any(String), sequence: expect.any(Number), user: { id: userId }, session_ids: sessionIds, reason: "user_deleted" }],
    ]);
    // The two survive the erasure as they were sent; every earlier message is redacted to the id.
    const stored = await storedMessages(userId);
    expect(stored.filter((m) => m.data.redacted !== true).map((m) => m.type)).toEqual(["user.deleted", "session.revoked"]);
    expect(stored.filter((m) => m.data.redacted === true).length).toBe(seen);
    for (const { data } of stored) expect(data.user).toEqual({ id: userId });
  }

  it("DELETE /v1/me announces user.deleted and session.revoked (user_deleted), naming the account by its id alone", async () => {
    const { userId, session, other, seen } = await userWithTwoSessions("erase-self");
    expect((await t.request("/v1/me", { method: "DELETE", json: { password: PASSWORD }, token: session.access_token })).status).toBe(204);
    await expectErasureAnnounced(userId, [sid(session), sid(other)], seen);
  });

  it("DELETE /admin/v1/users/:id announces the same", async () => {
    const { userId, session, other, seen } = await userWithTwoSessions("erase-admin");
    expect((await admin.call("DELETE", `/users/${userId}`)).status).toBe(204);
    await expectErasureAnnounced(userId, [sid(session), sid(other)], seen);
  });

  it("announces no session.revoked when no session was live", async () => {
    const { userId, other, seen } = await userWithTwoSessions("erase-no-sessions");
    expect((await t.post("/v1/logout", { all: true }, other.access_token)).status).toBe(204);
    expect((await admin.call("DELETE", `/users/${userId}`)).status).toBe(204);
    expect(summary((await eventsFor(userId)).slice(seen + 1))).toEqual([["user.deleted", {}]]);
  });
});

describe("the messages of these flows", () => {
  it("each match the payload the contract describes for its type", async () => {
    await t.settle();
    const accepted = await receiver.accepted();
    const types = new Set(accepted.map((p) => p.type));
    expect([...types].sort()).toEqual(["email.changed", "session.created", "session.revoked", "user.confirmed", "user.created", "user.deleted"]);
    for (const payload of accepted) {
      const parsed = responseSchemas().webhookPayload(payload.type).safeParse(payload);
      expect({ type: payload.type, issues: parsed.error?.issues ?? [] }).toEqual({ type: payload.type, issues: [] });
    }
  });
});

describe("round trips", () => {
  it("are the same with a subscribed endpoint: the events ride in each flow's own batch, and are delivered after the response", async () => {
    const quiet = await newReceiver("lifecycle-trips");
    const { t: s, advance: later } = await serviceWithReceivers([quiet], { background: "manual" });
    const key = await adminKey(s, ["users:write"]);
    const { email, userId, session } = await createConfirmedUser(s, "trips");
    await later(MAIL_MIN_INTERVAL_MS);
    const next = uniqueEmail("trips-new");
    expect((await s.post("/v1/email/change", { new_email: next, password: PASSWORD }, session.access_token)).status).toBe(202);
    await s.runDeferred();
    const confirm = tokenFrom(await latestMailTo(next, CONFIRM_SUBJECT));
    const undo = tokenFrom(await latestMailTo(email, NOTICE_SUBJECT));
    expect(await s.measureTrips(() => s.post("/v1/email/change/confirm", { token: confirm }))).toEqual({ status: 200, used: 2 });
    expect(await s.measureTrips(() => s.post("/v1/email/change/revert", { token: undo }))).toEqual({ status: 200, used: 2 });
    const fresh = await login(s, email);
    expect(await s.measureTrips(() => s.request("/v1/me", { method: "DELETE", json: { password: PASSWORD }, token: fresh.access_token }))).toEqual({ status: 204, used: 2 });
    const other = await createConfirmedUser(s, "trips-admin");
    // The key's check, the user's read, then the one batch.
    expect(await s.measureTrips(() => key.call("DELETE", `/users/${other.userId}`))).toEqual({ status: 204, used: 3 });

    await s.settle();
    const types = (await quiet.accepted())
      .filter((p) => p.data.user.id === userId)
      .sort((a, b) => a.data.sequence - b.data.sequence)
      .map((p) => p.type);
    expect(types.filter((type) => type !== "session.created")).toEqual([
      "user.created",
      "user.confirmed",
      "email.changed",
      "email.changed",
      "session.revoked",
      "user.deleted",
      "session.revoked",
    ]);
  });
});
