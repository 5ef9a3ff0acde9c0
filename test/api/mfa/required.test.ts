import { beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { auditEvents, passkeys, recoveryCodes, totpFactors } from "../../../src/db/schema.ts";
import { resetUserFactors } from "../../../src/auth/mfa-changes.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { adminKey } from "../../support/admin.ts";
import { createConfirmedUser, errorCode, login, PASSWORD, type SessionBody } from "../../support/flows.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { amrOf, codeNow, finishLogin, passwordStep, userWithTotp } from "../../support/mfa.ts";

const clock = new TestClock();

describe("MFA_REQUIRED=true", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await createTestService({ clock, settings: { MFA_REQUIRED: "true" } });
  });

  /** A confirmed account (confirming answers an enrolment token, not a session) and a fresh login's enrolment answer. */
  async function enrollingUser(label: string) {
    const email = uniqueEmail(label);
    expect((await t.post("/v1/register", { email, password: PASSWORD })).status).toBe(202);
    await t.settle();
    const confirmed = await t.post("/v1/confirm", { token: tokenFrom((await mailsTo(email)).at(-1)), password: PASSWORD });
    expect(confirmed.status).toBe(200);
    const body = (await confirmed.json()) as { user: { id: string }; session?: unknown; mfa_enrollment_required: boolean; mfa_token: string };
    expect(body.session).toBeUndefined();
    expect(body.mfa_enrollment_required).toBe(true);
    return { email, userId: body.user.id, confirmToken: body.mfa_token };
  }

  async function loginAnswer(email: string, headers: Record<string, string> = {}) {
    const res = await t.request("/v1/login", { method: "POST", json: { email, password: PASSWORD }, headers });
    expect(res.status).toBe(200);
    return (await res.json()) as { mfa_enrollment_required?: boolean; mfa_token: string; methods: string[]; session?: unknown };
  }

  it("asks a user without a factor to enrol at login: an enrolment token, no session", async () => {
    const { email } = await enrollingUser("asked");
    const answer = await loginAnswer(email);
    expect(answer).toMatchObject({ mfa_enrollment_required: true, methods: ["totp"], expires_in: 300 });
    expect(answer.session).toBeUndefined();
  });

  it("enrols with the token alone and activation finishes the login, with recovery codes; the token is then spent", async () => {
    const { email } = await enrollingUser("enrols");
    const { mfa_token } = await loginAnswer(email);
    const enrolled = await t.post("/v1/mfa/totp/enroll", { mfa_token });
    expect(enrolled.status).toBe(200);
    const { secret } = (await enrolled.json()) as { secret: string };
    const wrong = await t.post("/v1/mfa/totp/activate", { mfa_token, code: "000000" });
    expect(wrong.status).toBe(401);
    const res = await t.post("/v1/mfa/totp/activate", { mfa_token, code: await codeNow(t, secret) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { session: SessionBody; recovery_codes: string[] };
    expect(amrOf(body.session)).toEqual(["pwd", "otp"]);
    expect(body.recovery_codes).toHaveLength(10);
    const again = await t.post("/v1/mfa/totp/enroll", { mfa_token });
    expect(again.status).toBe(401);
    expect(await errorCode(again)).toBe("invalid_token");
    // From now on the login asks for the code.
    clock.advance(30_000);
    const step = await passwordStep(t, email);
    expect((await finishLogin(t, { mfa_token: step.mfa_token, code: await codeNow(t, secret) })).status).toBe(200);
  });

  it("the confirmation's enrolment token works the same way", async () => {
    const { confirmToken } = await enrollingUser("at-confirm");
    expect((await t.post("/v1/mfa/totp/enroll", { mfa_token: confirmToken })).status).toBe(200);
  });

  it("an enrolment token cannot finish a login, serve another client, or stand in for an access token", async () => {
    const { email } = await enrollingUser("narrow");
    const { mfa_token } = await loginAnswer(email);
    const finish = await finishLogin(t, { mfa_token, code: "123456" });
    expect(finish.status).toBe(401);
    expect(await errorCode(finish)).toBe("invalid_token");
    expect((await t.request("/v1/mfa/totp/enroll", { method: "POST", json: { mfa_token }, headers: { "cf-connecting-ip": "198.51.100.9" } })).status).toBe(401);
    expect((await t.request("/v1/mfa", { token: mfa_token })).status).toBe(401);
    expect((await t.post("/v1/mfa/totp/enroll", {})).status).toBe(401);
  });

  it("a user who has a factor logs in with it as usual", async () => {
    const { email } = await enrollingUser("has-factor");
    const { mfa_token } = await loginAnswer(email);
    const { secret } = (await (await t.post("/v1/mfa/totp/enroll", { mfa_token })).json()) as { secret: string };
    expect((await t.post("/v1/mfa/totp/activate", { mfa_token, code: await codeNow(t, secret) })).status).toBe(200);
    clock.advance(30_000);
    const step = await passwordStep(t, email);
    expect(step.methods).toEqual(["totp", "recovery_code"]);
  });
});

describe("admin reset of a user's factors (POST /admin/v1/users/:id/mfa/reset)", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await createTestService({ clock });
  });

  it("removes every factor and recovery code, audits with the key and mails the owner; the password alone logs in again", async () => {
    const admin = await adminKey(t, ["users:write"]);
    const user = await userWithTotp(t, clock, "reset");
    const reader = await adminKey(t, ["users:read"]);
    const before = (await (await reader.call("GET", `/users/${user.userId}`)).json()) as { user: { mfa: unknown } };
    expect(before.user.mfa).toEqual({ enabled: true, factors: ["totp"], recovery_codes_left: 10 });
    const res = await admin.call("POST", `/users/${user.userId}/mfa/reset`, {});
    expect(res.status).toBe(200);
    for (const table of [totpFactors, passkeys, recoveryCodes]) expect(await t.deps.db.select().from(table).where(eq(table.userId, user.userId))).toEqual([]);
    const audit = await t.deps.db.select().from(auditEvents).where(and(eq(auditEvents.userId, user.userId), eq(auditEvents.type, "factors_reset")));
    expect(audit.map((a) => a.actor)).toEqual([`key:${admin.id}`]);
    expect(amrOf(await login(t, user.email))).toEqual(["pwd"]);
    const after = (await (await reader.call("GET", `/users/${user.userId}`)).json()) as { user: { mfa: unknown } };
    expect(after.user.mfa).toEqual({ enabled: false, factors: [], recovery_codes_left: 0 });
    await t.settle();
    expect((await mailsTo(user.email)).at(-1)?.body.subject).toBe("The second factors of your Acme account were reset");
  });

  it("needs the users:write scope, and answers 404 for an unknown user", async () => {
    const reader = await adminKey(t, ["users:read"]);
    const user = await userWithTotp(t, clock, "reset-scope");
    expect((await reader.call("POST", `/users/${user.userId}/mfa/reset`, {})).status).toBe(403);
    expect(await t.deps.db.select().from(totpFactors).where(eq(totpFactors.userId, user.userId))).toHaveLength(1);
    const writer = await adminKey(t, ["users:write"]);
    expect((await writer.call("POST", `/users/${crypto.randomUUID()}/mfa/reset`, {})).status).toBe(404);
  });

  it("leaves other users' factors alone", async () => {
    const keep = await userWithTotp(t, clock, "keep");
    const other = await createConfirmedUser(t, "other");
    await resetUserFactors(t.deps, other.userId, { ip: null, userAgent: null }, null, clock.now());
    expect(await t.deps.db.select().from(totpFactors).where(eq(totpFactors.userId, keep.userId))).toHaveLength(1);
  });
});
