import { beforeAll, describe, expect, it } from "vitest";
import { MAIL_MIN_INTERVAL_MS } from "../../../src/limits/mail-budget.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { createConfirmedUser, errorCode, login, PASSWORD } from "../../support/flows.ts";

let t: TestService;
const clock = new TestClock();
beforeAll(async () => {
  t = await createTestService({ clock });
});

async function resetToken(email: string) {
  // Past the one-mail-a-minute interval of the mail budget, so every call gets its own link.
  clock.advance(MAIL_MIN_INTERVAL_MS);
  expect((await t.post("/v1/password/forgot", { email })).status).toBe(202);
  await t.settle();
  return tokenFrom((await mailsTo(email)).at(-1));
}

describe("reset tokens are single-use, short-lived and purpose-bound", () => {
  it("refuses the same token a second time", async () => {
    const { email } = await createConfirmedUser(t, "twice");
    const token = await resetToken(email);
    expect((await t.post("/v1/password/reset", { token, password: "first new password" })).status).toBe(200);
    const again = await t.post("/v1/password/reset", { token, password: "second new password" });
    expect(again.status).toBe(400);
    expect(await errorCode(again)).toBe("invalid_token");
    await login(t, email, "first new password");
  });

  it("lets exactly one of 20 parallel uses of one token succeed", async () => {
    const { email } = await createConfirmedUser(t, "race");
    const token = await resetToken(email);
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.post("/v1/password/reset", { token, password: `parallel password ${i}` }).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(19);
  });

  it("refuses a token past RESET_TOKEN_TTL", async () => {
    const { email } = await createConfirmedUser(t, "late");
    const token = await resetToken(email);
    clock.advance(t.deps.config.resetTokenTtl * 1000 + 1);
    const res = await t.post("/v1/password/reset", { token, password: "too late password" });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("invalid_token");
  });

  it("refuses a confirmation token, a refresh token and an access token used as a reset token", async () => {
    const email = uniqueEmail("purpose");
    await t.post("/v1/register", { email, password: PASSWORD });
    await t.settle();
    const confirmToken = tokenFrom((await mailsTo(email))[0]);
    const confirmed = (await (await t.post("/v1/confirm", { token: confirmToken, password: PASSWORD })).json()) as {
      session: { access_token: string; refresh_token: string };
    };
    // The confirmation token is spent, so mint a fresh unconfirmed one too.
    const other = uniqueEmail("purpose2");
    await t.post("/v1/register", { email: other, password: PASSWORD });
    await t.settle();
    const liveConfirmToken = tokenFrom((await mailsTo(other))[0]);
    for (const token of [liveConfirmToken, confirmed.session.refresh_token, confirmed.session.access_token]) {
      const res = await t.post("/v1/password/reset", { token, password: "hijacked password" });
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe("invalid_token");
    }
    // And the confirmation token still confirms: a failed reset attempt did not consume it.
    expect((await t.post("/v1/confirm", { token: liveConfirmToken, password: PASSWORD })).status).toBe(200);
  });

  it("does not consume the token when the new password is refused", async () => {
    const { email } = await createConfirmedUser(t, "weak");
    const token = await resetToken(email);
    const weak = await t.post("/v1/password/reset", { token, password: "short" });
    expect(weak.status).toBe(400);
    expect(await errorCode(weak)).toBe("weak_password");
    expect((await t.post("/v1/password/reset", { token, password: "now a long enough one" })).status).toBe(200);
  });

  it("voids an older reset link when a newer one is requested", async () => {
    const { email } = await createConfirmedUser(t, "newer");
    const older = await resetToken(email);
    const newer = await resetToken(email);
    expect((await t.post("/v1/password/reset", { token: older, password: "from the old link" })).status).toBe(400);
    expect((await t.post("/v1/password/reset", { token: newer, password: "from the new link" })).status).toBe(200);
    expect((await t.post("/v1/password/reset", { token: newer, password: "and once more" })).status).toBe(400);
  });
});

describe("forgot tells nobody which addresses exist", () => {
  it("answers unknown, unconfirmed and confirmed addresses with the same status and body", async () => {
    const { email: confirmed } = await createConfirmedUser(t, "c");
    const unconfirmed = uniqueEmail("u");
    await t.post("/v1/register", { email: unconfirmed, password: PASSWORD });
    const answers = [];
    for (const email of [uniqueEmail("x"), unconfirmed, confirmed]) {
      const res = await t.post("/v1/password/forgot", { email });
      answers.push([res.status, await res.text()]);
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[1]).toEqual(answers[2]);
    expect(answers[0]![0]).toBe(202);
  });

  it("mails nothing to an unknown address, nor to one with only pending registrations (no password to reset)", async () => {
    const unknown = uniqueEmail("nobody");
    await t.post("/v1/password/forgot", { email: unknown });
    const unconfirmed = uniqueEmail("pending");
    await t.post("/v1/register", { email: unconfirmed, password: PASSWORD });
    clock.advance(MAIL_MIN_INTERVAL_MS);
    await t.post("/v1/password/forgot", { email: unconfirmed });
    await t.settle();
    expect(await mailsTo(unknown)).toHaveLength(0);
    const mails = await mailsTo(unconfirmed);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.body.text).toMatch(/\/confirm#token=/);
  });
});

describe("change password", () => {
  it("answers a wrong current password with 401 invalid_credentials and changes nothing", async () => {
    const { email, session } = await createConfirmedUser(t, "wrong");
    const res = await t.post("/v1/password/change", { current_password: "not it at all", new_password: "whatever new pass" }, session.access_token);
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("invalid_credentials");
    await login(t, email);
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(200);
  });

  it("counts wrong current passwords toward the login lock-out, so a stolen access token cannot guess freely", async () => {
    const { email, session } = await createConfirmedUser(t, "guess");
    for (let i = 0; i < 5; i++) {
      const res = await t.post("/v1/password/change", { current_password: `guess number ${i}`, new_password: "whatever new pass" }, session.access_token);
      expect(res.status).toBe(401);
    }
    const locked = await t.post("/v1/password/change", { current_password: PASSWORD, new_password: "whatever new pass" }, session.access_token);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await t.post("/v1/login", { email, password: PASSWORD })).status).toBe(429);
    clock.advance(31_000);
    await login(t, email);
  });

  it("needs a live session: a logged-out session's access token cannot change the password", async () => {
    const { email, session } = await createConfirmedUser(t, "gone");
    await t.post("/v1/logout", {}, session.access_token);
    const res = await t.post("/v1/password/change", { current_password: PASSWORD, new_password: "sneaky new password" }, session.access_token);
    expect(res.status).toBe(401);
    await login(t, email);
  });

  it("keeps to two round trips for forgot, reset and change", async () => {
    const s = await createTestService({ background: "manual" });
    const { email } = await createConfirmedUser(s, "budget");
    const trips = s.measureTrips;
    expect(await trips(() => s.post("/v1/password/forgot", { email }))).toEqual({ status: 202, used: 2 });
    expect(await trips(() => s.post("/v1/password/forgot", { email: uniqueEmail("none") }))).toEqual({ status: 202, used: 2 });
    const token = tokenFrom((await mailsTo(email)).at(-1));
    expect(await trips(() => s.post("/v1/password/reset", { token, password: "budget new password" }))).toEqual({ status: 200, used: 2 });
    const fresh = await login(s, email, "budget new password");
    expect(
      await trips(() => s.post("/v1/password/change", { current_password: "budget new password", new_password: "budget newer password" }, fresh.access_token)),
    ).toEqual({ status: 200, used: 2 });
  });
});
