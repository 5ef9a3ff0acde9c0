import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { recoveryCodes, totpFactors } from "../../../src/db/schema.ts";
import { unseal } from "../../../src/lib/crypto/seal.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { createConfirmedUser, errorCode, login, PASSWORD, type SessionBody } from "../../support/flows.ts";
import { mailsTo } from "../../support/mail.ts";
import { amrOf, codeNow, enrollTotp, finishLogin, nextStep, passwordStep, userWithTotp } from "../../support/mfa.ts";

const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  t = await createTestService({ clock });
});

describe("enrolling an authenticator app", () => {
  it("answers the secret, an otpauth:// URI naming the app and the account, and an SVG QR code", async () => {
    const user = await createConfirmedUser(t, "enrol");
    const body = await enrollTotp(t, user.session.access_token);
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(body.otpauth_uri);
    expect(uri.protocol).toBe("otpauth:");
    expect(decodeURIComponent(uri.pathname)).toBe(`/Acme:${user.email}`);
    expect(uri.searchParams.get("secret")).toBe(body.secret);
    expect(body.qr_svg).toMatch(/^<svg[\s\S]*<\/svg>$/);
  });

  it("stores the secret sealed to its row and user: not in the clear, and not openable as another row", async () => {
    const user = await createConfirmedUser(t, "sealed");
    const { secret } = await enrollTotp(t, user.session.access_token);
    const [row] = await t.deps.db.select().from(totpFactors).where(eq(totpFactors.userId, user.userId));
    expect(row!.secret).not.toContain(secret);
    expect(await unseal(t.deps.mfaKey, row!.secret, `totp\n${row!.id}\n${row!.userId}`)).toBe(secret);
    await expect(unseal(t.deps.mfaKey, row!.secret, `totp\n${crypto.randomUUID()}\n${row!.userId}`)).rejects.toThrow();
    await expect(unseal(t.deps.outboxKey, row!.secret, `totp\n${row!.id}\n${row!.userId}`)).rejects.toThrow();
  });

  it("needs the password: a stolen access token alone cannot enrol a factor", async () => {
    const user = await createConfirmedUser(t, "stolen");
    const token = user.session.access_token;
    const without = await t.post("/v1/mfa/totp/enroll", {}, token);
    expect(without.status).toBe(400);
    const wrong = await t.post("/v1/mfa/totp/enroll", { password: "a guessed password" }, token);
    expect(wrong.status).toBe(401);
    expect(await errorCode(wrong)).toBe("invalid_credentials");
    expect(await t.deps.db.select().from(totpFactors).where(eq(totpFactors.userId, user.userId))).toEqual([]);
    // Nor can it activate anything, having no secret.
    const activate = await t.post("/v1/mfa/totp/activate", { code: "123456" }, token);
    expect(activate.status).toBe(409);
  });

  it("counts wrong passwords against the login guard, so the token cannot be used to guess it", async () => {
    const user = await createConfirmedUser(t, "guessing");
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await t.post("/v1/mfa/totp/enroll", { password: `guess number ${i}` }, user.session.access_token)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    clock.advance(t.deps.config.loginLockoutBaseSeconds * 1000);
  });

  it("refuses the access token of a session that has ended", async () => {
    const user = await createConfirmedUser(t, "ended");
    await t.post("/v1/logout", {}, user.session.access_token);
    expect((await t.post("/v1/mfa/totp/enroll", { password: PASSWORD }, user.session.access_token)).status).toBe(401);
  });
});

describe("activating it", () => {
  it("refuses a wrong code and leaves the login as it was", async () => {
    const user = await createConfirmedUser(t, "wrong-activation");
    const { secret } = await enrollTotp(t, user.session.access_token);
    const wrong = (Number(await codeNow(t, secret)) + 1) % 1_000_000;
    const res = await t.post("/v1/mfa/totp/activate", { code: String(wrong).padStart(6, "0") }, user.session.access_token);
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("invalid_credentials");
    expect((await login(t, user.email)).access_token).toBeTruthy();
  });

  it("turns it on with a right code, answers 10 recovery codes once, stores them hashed, and mails the owner", async () => {
    const user = await createConfirmedUser(t, "activate");
    const { secret } = await enrollTotp(t, user.session.access_token);
    const res = await t.post("/v1/mfa/totp/activate", { code: await codeNow(t, secret) }, user.session.access_token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { enabled: boolean; recovery_codes: string[] };
    expect(body.enabled).toBe(true);
    expect(body.recovery_codes).toHaveLength(10);
    const rows = await t.deps.db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, user.userId));
    expect(rows).toHaveLength(10);
    for (const row of rows) for (const code of body.recovery_codes) expect(row.codeHash).not.toContain(code.replace("-", ""));

    const list = await t.request("/v1/mfa", { token: user.session.access_token });
    const factors = (await list.json()) as { factors: Array<{ type: string }>; recovery_codes_left: number };
    expect(factors.factors.map((f) => f.type)).toEqual(["totp"]);
    expect(factors.recovery_codes_left).toBe(10);
    await t.settle();
    expect((await mailsTo(user.email)).at(-1)?.body.subject).toBe("Two-step sign-in is on for your Acme account");
  });

  it("refuses to enrol a second app while one is on", async () => {
    const user = await userWithTotp(t, clock, "second-app");
    const res = await t.post("/v1/mfa/totp/enroll", { password: PASSWORD }, user.session.access_token);
    expect(res.status).toBe(409);
    expect(await errorCode(res)).toBe("totp_already_enabled");
  });
});

describe("logging in with the app", () => {
  it("answers mfa_required and an mfa_token instead of a session after the right password", async () => {
    const user = await userWithTotp(t, clock, "needs-code");
    const step = await passwordStep(t, user.email);
    expect(step.methods).toEqual(["totp", "recovery_code"]);
    expect(step.expires_in).toBe(300);
    expect(step.mfa_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(step.passkey_options).toBeUndefined();
  });

  it("still answers 401 to a wrong password, exactly as for a user without a factor", async () => {
    const user = await userWithTotp(t, clock, "wrong-password");
    const res = await t.post("/v1/login", { email: user.email, password: "not the password" });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("invalid_credentials");
  });

  it("opens the session with the code, amr pwd + otp in the token and in /v1/me, kept across refresh", async () => {
    const user = await userWithTotp(t, clock, "with-code");
    const step = await passwordStep(t, user.email);
    const res = await finishLogin(t, { mfa_token: step.mfa_token, code: await codeNow(t, user.secret) });
    expect(res.status).toBe(200);
    const { session } = (await res.json()) as { session: SessionBody };
    expect(amrOf(session)).toEqual(["pwd", "otp"]);
    const me = (await (await t.request("/v1/me", { token: session.access_token })).json()) as { session: { amr: string[] } };
    expect(me.session.amr).toEqual(["pwd", "otp"]);
    const refreshed = (await (await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).json()) as { session: SessionBody };
    expect(amrOf(refreshed.session)).toEqual(["pwd", "otp"]);
  });

  it("refuses a code that was already accepted (no replay within its window)", async () => {
    const user = await userWithTotp(t, clock, "replay");
    const code = await codeNow(t, user.secret);
    const first = await passwordStep(t, user.email);
    expect((await finishLogin(t, { mfa_token: first.mfa_token, code })).status).toBe(200);
    const second = await passwordStep(t, user.email);
    const replay = await finishLogin(t, { mfa_token: second.mfa_token, code });
    expect(replay.status).toBe(401);
    expect(await errorCode(replay)).toBe("invalid_credentials");
    // An earlier step's code is refused too once a later one was used.
    expect((await finishLogin(t, { mfa_token: second.mfa_token, code: await codeNow(t, user.secret, -1) })).status).toBe(401);
    // The next step's code works.
    nextStep(clock);
    expect((await finishLogin(t, { mfa_token: second.mfa_token, code: await codeNow(t, user.secret) })).status).toBe(200);
  });

  it("accepts one step of clock skew either way, not two", async () => {
    const user = await userWithTotp(t, clock, "skew");
    // Three steps past the activating code, so the steps tried below were never used.
    clock.advance(3 * 30_000);
    const early = await passwordStep(t, user.email);
    expect((await finishLogin(t, { mfa_token: early.mfa_token, code: await codeNow(t, user.secret, -2) })).status).toBe(401);
    expect((await finishLogin(t, { mfa_token: early.mfa_token, code: await codeNow(t, user.secret, -1) })).status).toBe(200);
    const late = await passwordStep(t, user.email);
    expect((await finishLogin(t, { mfa_token: late.mfa_token, code: await codeNow(t, user.secret, 2) })).status).toBe(401);
    expect((await finishLogin(t, { mfa_token: late.mfa_token, code: await codeNow(t, user.secret, 1) })).status).toBe(200);
    clock.advance(60_000);
  });

  it("lets one of two concurrent logins with the same code through", async () => {
    const user = await userWithTotp(t, clock, "race");
    const code = await codeNow(t, user.secret);
    const [a, b] = [await passwordStep(t, user.email), await passwordStep(t, user.email)];
    const statuses = await Promise.all([a, b].map((s) => finishLogin(t, { mfa_token: s.mfa_token, code }).then((r) => r.status)));
    expect(statuses.sort()).toEqual([200, 401]);
  });

  it("asks for exactly one proof", async () => {
    const user = await userWithTotp(t, clock, "one-proof");
    const step = await passwordStep(t, user.email);
    expect((await finishLogin(t, { mfa_token: step.mfa_token })).status).toBe(400);
    expect((await finishLogin(t, { mfa_token: step.mfa_token, code: "123456", recovery_code: user.recoveryCodes[0] })).status).toBe(400);
  });
});

describe("the mfa_token", () => {
  const invalid = async (res: Response) => {
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("invalid_token");
  };

  it("refuses a token we never issued, and a malformed one", async () => {
    const user = await userWithTotp(t, clock, "forged");
    const code = await codeNow(t, user.secret);
    await invalid(await finishLogin(t, { mfa_token: "A".repeat(43), code }));
    await invalid(await finishLogin(t, { mfa_token: "not a token", code }));
  });

  it("expires after 5 minutes", async () => {
    const user = await userWithTotp(t, clock, "expired");
    const step = await passwordStep(t, user.email);
    clock.advance(step.expires_in * 1000);
    await invalid(await finishLogin(t, { mfa_token: step.mfa_token, code: await codeNow(t, user.secret) }));
  });

  it("works once", async () => {
    const user = await userWithTotp(t, clock, "reused");
    const step = await passwordStep(t, user.email);
    expect((await finishLogin(t, { mfa_token: step.mfa_token, code: await codeNow(t, user.secret) })).status).toBe(200);
    nextStep(clock);
    await invalid(await finishLogin(t, { mfa_token: step.mfa_token, code: await codeNow(t, user.secret) }));
  });

  it("works only for the client it was issued to", async () => {
    const user = await userWithTotp(t, clock, "elsewhere");
    const step = await passwordStep(t, user.email);
    const code = await codeNow(t, user.secret);
    await invalid(await finishLogin(t, { mfa_token: step.mfa_token, code }, { "cf-connecting-ip": "198.51.100.20" }));
    await invalid(await finishLogin(t, { mfa_token: step.mfa_token, code }, { "user-agent": "another browser" }));
    expect((await finishLogin(t, { mfa_token: step.mfa_token, code })).status).toBe(200);
  });

  it("is spent by the fifth wrong code", async () => {
    const user = await userWithTotp(t, clock, "worn-out");
    const step = await passwordStep(t, user.email, PASSWORD, { "cf-connecting-ip": "198.51.100.31" });
    const at = { "cf-connecting-ip": "198.51.100.31" };
    for (let i = 0; i < 5; i++) expect((await finishLogin(t, { mfa_token: step.mfa_token, code: "000000" }, at)).status).toBe(401);
    await invalid(await finishLogin(t, { mfa_token: step.mfa_token, code: await codeNow(t, user.secret) }, at));
    // The fifth wrong code also started this client's lock-out (the guard's threshold is 5 too).
    expect((await t.request("/v1/login", { method: "POST", json: { email: user.email, password: PASSWORD }, headers: at })).status).toBe(429);
    clock.advance(t.deps.config.loginLockoutBaseSeconds * 1000);
  });

  it("is not a session: it opens nothing that needs an access token", async () => {
    const user = await userWithTotp(t, clock, "not-a-session");
    const step = await passwordStep(t, user.email);
    expect((await t.request("/v1/me", { token: step.mfa_token })).status).toBe(401);
  });
});

describe("wrong codes and the login guard", () => {
  it("locks this client out after the threshold of wrong codes across fresh mfa_tokens, even for the right code", async () => {
    const user = await userWithTotp(t, clock, "guarded");
    const at = { "cf-connecting-ip": "198.51.100.40" };
    const { loginLockoutThreshold: threshold, loginLockoutBaseSeconds } = t.deps.config;
    // The right password each time does not reset the count of wrong codes.
    const answers: string[] = [];
    for (let i = 0; i < threshold + 2 && !answers.includes("429"); i++) {
      const pw = await t.request("/v1/login", { method: "POST", json: { email: user.email, password: PASSWORD }, headers: at });
      if (pw.status !== 200) {
        answers.push(String(pw.status));
        break;
      }
      const { mfa_token } = (await pw.json()) as { mfa_token: string };
      answers.push(String((await finishLogin(t, { mfa_token, code: "999999" }, at)).status));
    }
    expect(answers).toEqual([...Array(threshold).fill("401"), "429"]);
    const locked = await t.request("/v1/login", { method: "POST", json: { email: user.email, password: PASSWORD }, headers: at });
    expect(locked.status).toBe(429);
    clock.advance(loginLockoutBaseSeconds * 1000);
    // The owner gets in once the window has passed, and a finished login resets the count.
    const step = await passwordStep(t, user.email, PASSWORD, at);
    expect((await finishLogin(t, { mfa_token: step.mfa_token, code: await codeNow(t, user.secret) }, at)).status).toBe(200);
    clock.advance(t.deps.config.loginLockoutMaxSeconds * 1000);
  });
});

describe("recovery codes", () => {
  it("each works once in place of a code, mails the owner, and the answer counts what is left", async () => {
    const user = await userWithTotp(t, clock, "recovery");
    const [first] = user.recoveryCodes;
    const step = await passwordStep(t, user.email);
    const res = await finishLogin(t, { mfa_token: step.mfa_token, recovery_code: first!.toUpperCase() });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { session: SessionBody; recovery_codes_left: number; notice?: string };
    expect(body.recovery_codes_left).toBe(9);
    expect(body.notice).toBeUndefined();
    expect(amrOf(body.session)).toEqual(["pwd", "otp"]);
    await t.settle();
    const mail = (await mailsTo(user.email)).at(-1)!;
    expect(mail.body.subject).toBe("A recovery code was used for your Acme account");
    expect(mail.body.text).toContain("You have 9 recovery codes left.");

    const again = await passwordStep(t, user.email);
    const reuse = await finishLogin(t, { mfa_token: again.mfa_token, recovery_code: first! });
    expect(reuse.status).toBe(401);
    expect(await errorCode(reuse)).toBe("invalid_credentials");
  });

  it("says so when fewer than 3 are left", async () => {
    const user = await userWithTotp(t, clock, "running-out");
    let last: { recovery_codes_left: number; notice?: string } | undefined;
    for (const code of user.recoveryCodes.slice(0, 8)) {
      const step = await passwordStep(t, user.email);
      const res = await finishLogin(t, { mfa_token: step.mfa_token, recovery_code: code });
      expect(res.status).toBe(200);
      last = (await res.json()) as typeof last;
    }
    expect(last).toMatchObject({ recovery_codes_left: 2, notice: expect.stringMatching(/Only 2 recovery codes left/) });
  });

  it("new ones need the password and a current factor, and void the old ones", async () => {
    const user = await userWithTotp(t, clock, "regenerate");
    const token = user.session.access_token;
    expect((await t.post("/v1/mfa/recovery-codes", { password: "wrong password", code: await codeNow(t, user.secret) }, token)).status).toBe(401);
    expect((await t.post("/v1/mfa/recovery-codes", { password: PASSWORD, code: "000000" }, token)).status).toBe(401);
    const res = await t.post("/v1/mfa/recovery-codes", { password: PASSWORD, code: await codeNow(t, user.secret) }, token);
    expect(res.status).toBe(200);
    const { recovery_codes: fresh } = (await res.json()) as { recovery_codes: string[] };
    expect(fresh).toHaveLength(10);
    const step = await passwordStep(t, user.email);
    expect((await finishLogin(t, { mfa_token: step.mfa_token, recovery_code: user.recoveryCodes[0] })).status).toBe(401);
    expect((await finishLogin(t, { mfa_token: step.mfa_token, recovery_code: fresh[0] })).status).toBe(200);
    await t.settle();
    expect((await mailsTo(user.email)).some((m) => m.body.subject === "New recovery codes for your Acme account")).toBe(true);
  });
});

describe("removing the app", () => {
  it("needs the password and a current code; then login is password-only again and the recovery codes are gone", async () => {
    const user = await userWithTotp(t, clock, "remove");
    const token = user.session.access_token;
    const list = (await (await t.request("/v1/mfa", { token })).json()) as { factors: Array<{ id: string }> };
    const factorId = list.factors[0]!.id;
    const code = await codeNow(t, user.secret);

    expect((await t.post("/v1/mfa/remove", { factor_id: factorId, password: PASSWORD }, token)).status).toBe(400);
    expect((await t.post("/v1/mfa/remove", { factor_id: factorId, code }, token)).status).toBe(400);
    const wrongPassword = await t.post("/v1/mfa/remove", { factor_id: factorId, password: "not the password", code }, token);
    expect(wrongPassword.status).toBe(401);
    const wrongCode = await t.post("/v1/mfa/remove", { factor_id: factorId, password: PASSWORD, code: "000000" }, token);
    expect(wrongCode.status).toBe(401);
    expect(await errorCode(wrongCode)).toBe("invalid_credentials");
    const unknown = await t.post("/v1/mfa/remove", { factor_id: crypto.randomUUID(), password: PASSWORD, code }, token);
    expect(unknown.status).toBe(404);

    const res = await t.post("/v1/mfa/remove", { factor_id: factorId, password: PASSWORD, code }, token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ factors: [], recovery_codes_left: 0 });
    expect(await t.deps.db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, user.userId))).toEqual([]);
    const session = await login(t, user.email);
    expect(amrOf(session)).toEqual(["pwd"]);
    await t.settle();
    expect((await mailsTo(user.email)).some((m) => m.body.subject === "An authenticator app was removed from your Acme account")).toBe(true);
  });

  it("refuses a code already used to log in", async () => {
    const user = await userWithTotp(t, clock, "remove-replay");
    const code = await codeNow(t, user.secret);
    const step = await passwordStep(t, user.email);
    const res = await finishLogin(t, { mfa_token: step.mfa_token, code });
    const { session } = (await res.json()) as { session: SessionBody };
    const list = (await (await t.request("/v1/mfa", { token: session.access_token })).json()) as { factors: Array<{ id: string }> };
    const removal = await t.post("/v1/mfa/remove", { factor_id: list.factors[0]!.id, password: PASSWORD, code }, session.access_token);
    expect(removal.status).toBe(401);
  });
});
