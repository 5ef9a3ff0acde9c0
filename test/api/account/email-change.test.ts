import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { EMAIL_CHANGE_UNDO_HOURS } from "../../../src/auth/email-change.ts";
import { auditEvents, users } from "../../../src/db/schema.ts";
import { MAIL_MIN_INTERVAL_MS } from "../../../src/limits/mail-budget.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { codeFrom, latestMailTo, mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { comparableBody, createConfirmedUser, errorCode, login, PASSWORD, type SessionBody } from "../../support/flows.ts";

const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  t = await createTestService({ clock });
});

const CONFIRM_SUBJECT = /Confirm your new email address/;
const NOTICE_SUBJECT = /email address is being changed/;

async function askChange(session: SessionBody, newEmail: string, password = PASSWORD) {
  clock.advance(MAIL_MIN_INTERVAL_MS);
  const res = await t.post("/v1/email/change", { new_email: newEmail, password }, session.access_token);
  await t.settle();
  return res;
}

const emailOf = async (userId: string) => (await t.deps.db.select().from(users).where(eq(users.id, userId)))[0]?.email;
const refresh = (session: SessionBody) => t.post("/v1/token/refresh", { refresh_token: session.refresh_token });

describe("changing the email address", () => {
  it("changes nothing until the new address confirms (a typo'd address stays harmless)", async () => {
    const { email, userId, session } = await createConfirmedUser(t, "typo");
    const typo = uniqueEmail("tpyo");
    const res = await askChange(session, typo);
    expect(res.status).toBe(202);
    expect(await emailOf(userId)).toBe(email);
    await login(t, email);
    expect((await t.post("/v1/login", { email: typo, password: PASSWORD })).status).toBe(401);
    // The typo'd mailbox got a link and a code; the real address was told, with a cancel link.
    const confirm = await latestMailTo(typo, CONFIRM_SUBJECT);
    expect(confirm.body.text).toMatch(/\/email\/confirm#token=/);
    expect(codeFrom(confirm)).toMatch(/^[0-9]{6}$/);
    const notice = await latestMailTo(email, NOTICE_SUBJECT);
    expect(notice.body.text).toContain(typo);
    expect(notice.body.text).toMatch(/\/email\/revert#token=/);
  });

  it("changes the address when the new mailbox's link is used: login works with the new address only", async () => {
    const { email, userId, session } = await createConfirmedUser(t, "move");
    const next = uniqueEmail("moved");
    await askChange(session, next);
    const res = await t.post("/v1/email/change/confirm", { token: tokenFrom(await latestMailTo(next, CONFIRM_SUBJECT)) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ email: next });
    expect(await emailOf(userId)).toBe(next);
    expect((await t.post("/v1/login", { email, password: PASSWORD })).status).toBe(401);
    await login(t, next);
  });

  it("changes it with the address and code instead of the link, and then neither works again", async () => {
    const { userId, session } = await createConfirmedUser(t, "by-code");
    const next = uniqueEmail("by-code-new");
    await askChange(session, next);
    const mail = await latestMailTo(next, CONFIRM_SUBJECT);
    expect((await t.post("/v1/email/change/confirm", { email: next, code: codeFrom(mail) })).status).toBe(200);
    expect(await emailOf(userId)).toBe(next);
    expect((await t.post("/v1/email/change/confirm", { token: tokenFrom(mail) })).status).toBe(400);
  });

  it("ends every other session, keeps the one that asked, and records the change", async () => {
    const { email, userId, session } = await createConfirmedUser(t, "sessions");
    const other = await login(t, email);
    const next = uniqueEmail("sessions-new");
    await askChange(session, next);
    await t.post("/v1/email/change/confirm", { token: tokenFrom(await latestMailTo(next, CONFIRM_SUBJECT)) });
    expect((await refresh(other)).status).toBe(401);
    const kept = await refresh(session);
    expect(kept.status).toBe(200);
    // The refreshed access token carries the new address.
    const { session: fresh } = (await kept.json()) as { session: SessionBody };
    const me = (await (await t.request("/v1/me", { token: fresh.access_token })).json()) as { user: { email: string } };
    expect(me.user.email).toBe(next);
    const types = (await t.deps.db.select().from(auditEvents).where(eq(auditEvents.userId, userId))).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["email_change_requested", "email_changed"]));
  });

  it("voids reset links mailed to the old address", async () => {
    const { email, session } = await createConfirmedUser(t, "old-reset");
    await t.post("/v1/password/forgot", { email });
    await t.settle();
    const resetToken = tokenFrom((await mailsTo(email)).at(-1));
    const next = uniqueEmail("old-reset-new");
    await askChange(session, next);
    await t.post("/v1/email/change/confirm", { token: tokenFrom(await latestMailTo(next, CONFIRM_SUBJECT)) });
    expect((await t.post("/v1/password/reset", { token: resetToken, password: "via the old mailbox" })).status).toBe(400);
  });

  it("needs the current password, guarded like login", async () => {
    const { email, userId, session } = await createConfirmedUser(t, "guarded");
    const next = uniqueEmail("guarded-new");
    for (let i = 0; i < t.deps.config.loginLockoutThreshold; i++) {
      const res = await t.post("/v1/email/change", { new_email: next, password: `wrong guess ${i}` }, session.access_token);
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe("invalid_credentials");
    }
    expect((await t.post("/v1/email/change", { new_email: next, password: PASSWORD }, session.access_token)).status).toBe(429);
    expect((await t.post("/v1/login", { email, password: PASSWORD })).status).toBe(429);
    clock.advance(t.deps.config.loginLockoutBaseSeconds * 1000);
    await t.settle();
    expect(await mailsTo(next)).toHaveLength(0);
    expect(await emailOf(userId)).toBe(email);
  });

  it("needs a live session", async () => {
    const { session } = await createConfirmedUser(t, "ended");
    await t.post("/v1/logout", {}, session.access_token);
    expect((await t.post("/v1/email/change", { new_email: uniqueEmail("x"), password: PASSWORD }, session.access_token)).status).toBe(401);
  });

  it("refuses the account's own address", async () => {
    const { email, session } = await createConfirmedUser(t, "same");
    const res = await t.post("/v1/email/change", { new_email: email, password: PASSWORD }, session.access_token);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("validation_failed");
  });
});

describe("a taken new address", () => {
  it("answers the same 202, changes nothing, and tells the address's owner", async () => {
    const requester = await createConfirmedUser(t, "taker");
    const holder = await createConfirmedUser(t, "holder");
    const free = uniqueEmail("free");
    const answers = [];
    for (const address of [free, holder.email]) {
      const res = await askChange(requester.session, address);
      answers.push([res.status, await comparableBody(res)]);
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]![0]).toBe(202);
    expect(await emailOf(requester.userId)).toBe(requester.email);
    expect(await emailOf(holder.userId)).toBe(holder.email);
    const told = await latestMailTo(holder.email, /Someone tried to use your address/);
    expect(told.body.text).not.toMatch(/token=/);
    // The requester's mailbox sees the same notice either way (but for the address and the time).
    const notices = (await mailsTo(requester.email)).filter((m) => NOTICE_SUBJECT.test(m.body.subject));
    const normalized = notices.map((m, i) =>
      (m.body.text ?? "")
        .replaceAll([free, holder.email][i]!, "ADDRESS")
        .replace(/token=[\w-]+/g, "token=T")
        .replace(/On .*? someone/, "On WHEN someone"),
    );
    expect(normalized).toHaveLength(2);
    expect(normalized[0]).toEqual(normalized[1]);
  });

  it("voids a change asked for earlier, as a free address does", async () => {
    const requester = await createConfirmedUser(t, "earlier");
    const holder = await createConfirmedUser(t, "earlier-holder");
    const first = uniqueEmail("earlier-first");
    await askChange(requester.session, first);
    await askChange(requester.session, holder.email);
    expect((await t.post("/v1/email/change/confirm", { token: tokenFrom(await latestMailTo(first, CONFIRM_SUBJECT)) })).status).toBe(400);
    expect(await emailOf(requester.userId)).toBe(requester.email);
  });
});

describe("the old address's link", () => {
  async function changed(label: string) {
    const user = await createConfirmedUser(t, label);
    const next = uniqueEmail(`${label}-new`);
    await askChange(user.session, next);
    const undo = tokenFrom(await latestMailTo(user.email, NOTICE_SUBJECT));
    return { ...user, next, undo, confirm: tokenFrom(await latestMailTo(next, CONFIRM_SUBJECT)) };
  }

  it("cancels a change that has not happened: the new address's link then does nothing", async () => {
    const { email, userId, undo, confirm } = await changed("cancel");
    const res = await t.post("/v1/email/change/revert", { token: undo });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ email, reverted: false });
    expect((await t.post("/v1/email/change/confirm", { token: confirm })).status).toBe(400);
    expect(await emailOf(userId)).toBe(email);
  });

  it(`restores the old address within ${EMAIL_CHANGE_UNDO_HOURS} h after the change and ends every session`, async () => {
    const { email, userId, session, next, undo, confirm } = await changed("revert");
    await t.post("/v1/email/change/confirm", { token: confirm });
    const other = await login(t, next);
    clock.advance((EMAIL_CHANGE_UNDO_HOURS - 1) * 3600_000);
    const res = await t.post("/v1/email/change/revert", { token: undo });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ email, reverted: true });
    expect(await emailOf(userId)).toBe(email);
    expect((await refresh(session)).status).toBe(401);
    expect((await refresh(other)).status).toBe(401);
    expect((await t.post("/v1/login", { email: next, password: PASSWORD })).status).toBe(401);
    await login(t, email);
    expect((await t.post("/v1/email/change/revert", { token: undo })).status).toBe(400);
  });

  it(`no longer undoes the change after ${EMAIL_CHANGE_UNDO_HOURS} h`, async () => {
    const { userId, next, undo, confirm } = await changed("too-late");
    // Confirmed near the end of the link's life: the undo window runs from the change itself.
    clock.advance(t.deps.config.confirmTokenTtl * 1000 - 60_000);
    await t.post("/v1/email/change/confirm", { token: confirm });
    clock.advance(EMAIL_CHANGE_UNDO_HOURS * 3600_000 + 1);
    const res = await t.post("/v1/email/change/revert", { token: undo });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("invalid_token");
    expect(await emailOf(userId)).toBe(next);
  });

  it("cannot be undone by whoever moved the address on: the owner's older link wins", async () => {
    // An attacker with the session and password moves A → B, then B → C, and uses B's own undo
    // link (which would restore B) to void the owner's. The owner's link for A must still work.
    const { email: a, userId, session, next: b, undo: ownerUndo, confirm } = await changed("chain");
    await t.post("/v1/email/change/confirm", { token: confirm });
    const c = uniqueEmail("chain-c");
    await askChange(session, c);
    const attackerUndo = tokenFrom(await latestMailTo(b, NOTICE_SUBJECT));
    await t.post("/v1/email/change/confirm", { token: tokenFrom(await latestMailTo(c, CONFIRM_SUBJECT)) });
    expect((await t.post("/v1/email/change/revert", { token: attackerUndo })).status).toBe(200);
    expect(await emailOf(userId)).toBe(b);
    expect((await t.post("/v1/email/change/revert", { token: ownerUndo })).status).toBe(200);
    expect(await emailOf(userId)).toBe(a);
    // And the attacker's link, newer than the owner's, is spent by the owner's undo.
    expect((await t.post("/v1/email/change/revert", { token: attackerUndo })).status).toBe(400);
  });

  it("keeps the old address's first link working when another change is asked for", async () => {
    const { email, userId, session, undo } = await changed("twice");
    const again = uniqueEmail("twice-again");
    await askChange(session, again);
    await t.post("/v1/email/change/confirm", { token: tokenFrom(await latestMailTo(again, CONFIRM_SUBJECT)) });
    expect((await t.post("/v1/email/change/revert", { token: undo })).status).toBe(200);
    expect(await emailOf(userId)).toBe(email);
  });
});

describe("round trips", () => {
  it("keeps change, confirm and revert to two each", async () => {
    const s = await createTestService({ background: "manual" });
    const { email, session } = await createConfirmedUser(s, "trips");
    const next = uniqueEmail("trips-new");
    expect(await s.measureTrips(() => s.post("/v1/email/change", { new_email: next, password: PASSWORD }, session.access_token))).toEqual({ status: 202, used: 2 });
    const confirm = tokenFrom(await latestMailTo(next, CONFIRM_SUBJECT));
    const undo = tokenFrom(await latestMailTo(email, NOTICE_SUBJECT));
    expect(await s.measureTrips(() => s.post("/v1/email/change/confirm", { token: confirm }))).toEqual({ status: 200, used: 2 });
    expect(await s.measureTrips(() => s.post("/v1/email/change/revert", { token: undo }))).toEqual({ status: 200, used: 2 });
  });
});
