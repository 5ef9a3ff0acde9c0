import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { users } from "../../../src/db/schema.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { createConfirmedUser, errorCode, PASSWORD } from "../../support/flows.ts";

let t: TestService;
const clock = new TestClock();
beforeAll(async () => {
  t = await createTestService({ clock });
});

describe("register refuses bad input with 400 and details", () => {
  it.each([
    ["no body", undefined, "validation_failed"],
    ["no password", { email: "a@example.test" }, "validation_failed"],
    ["not an email", { email: "not-an-email", password: PASSWORD }, "validation_failed"],
    ["email over 254 characters", { email: `${"a".repeat(250)}@example.test`, password: PASSWORD }, "validation_failed"],
    ["password over 256 characters", { email: "a@example.test", password: "x".repeat(257) }, "validation_failed"],
    ["password of 7 characters", { email: "a@example.test", password: "1234567" }, "weak_password"],
    ["email as a number", { email: 42, password: PASSWORD }, "validation_failed"],
  ])("%s", async (_label, body, code) => {
    const res = body === undefined ? await t.request("/v1/register", { method: "POST" }) : await t.post("/v1/register", body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { code: string; details?: Array<{ path: string; message: string }> } };
    expect(json.error.code).toBe(code);
    if (code === "validation_failed") expect(json.error.details?.length).toBeGreaterThan(0);
  });

  it("counts password length in characters after NFC, so 8 accented letters are enough", async () => {
    const res = await t.post("/v1/register", { email: uniqueEmail(), password: "e\u0301".repeat(8) });
    expect(res.status).toBe(202);
  });
});

describe("confirm refuses every token it should not accept with one answer", () => {
  it("refuses an unknown, malformed or missing token with 400 invalid_token", async () => {
    for (const token of ["A".repeat(43), "short", "", "x".repeat(500)]) {
      const res = await t.post("/v1/confirm", { token, password: PASSWORD });
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe("invalid_token");
    }
  });

  it("refuses a token that was already used", async () => {
    const email = uniqueEmail("used");
    await t.post("/v1/register", { email, password: PASSWORD });
    await t.settle();
    const token = tokenFrom((await mailsTo(email))[0]);
    expect((await t.post("/v1/confirm", { token, password: PASSWORD })).status).toBe(200);
    const again = await t.post("/v1/confirm", { token, password: PASSWORD });
    expect(again.status).toBe(400);
    expect(await errorCode(again)).toBe("invalid_token");
  });

  it("refuses a token past CONFIRM_TOKEN_TTL", async () => {
    const email = uniqueEmail("late");
    await t.post("/v1/register", { email, password: PASSWORD });
    await t.settle();
    const token = tokenFrom((await mailsTo(email))[0]);
    clock.advance(Number(t.deps.config.confirmTokenTtl) * 1000 + 1);
    const res = await t.post("/v1/confirm", { token, password: PASSWORD });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("invalid_token");
  });
});

describe("login", () => {
  it("answers 401 invalid_credentials for a wrong password and for an unknown address alike", async () => {
    const { email } = await createConfirmedUser(t, "login");
    const wrong = await t.post("/v1/login", { email, password: "not the password" });
    const unknown = await t.post("/v1/login", { email: uniqueEmail("nobody"), password: "not the password" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const [a, b] = [(await wrong.json()) as { error: Record<string, unknown> }, (await unknown.json()) as { error: Record<string, unknown> }];
    expect({ ...a.error, request_id: "" }).toEqual({ ...b.error, request_id: "" });
    expect(a.error.code).toBe("invalid_credentials");
  });

  it("answers 403 account_disabled for a disabled account with the right password only", async () => {
    const { email, userId } = await createConfirmedUser(t, "disabled");
    await t.deps.db.update(users).set({ disabledAt: clock.now() }).where(eq(users.id, userId));
    const right = await t.post("/v1/login", { email, password: PASSWORD });
    expect(right.status).toBe(403);
    expect(await errorCode(right)).toBe("account_disabled");
    const wrong = await t.post("/v1/login", { email, password: "not the password" });
    expect(wrong.status).toBe(401);
  });

  it("logs in with the address in any case and surrounding spaces", async () => {
    const { email } = await createConfirmedUser(t, "case");
    const res = await t.post("/v1/login", { email: `  ${email.toUpperCase()}  `, password: PASSWORD });
    expect(res.status).toBe(200);
  });
});

describe("refresh, logout and me", () => {
  it("refuses an unknown or malformed refresh token with 401 invalid_token", async () => {
    for (const refresh_token of ["B".repeat(43), "nope"]) {
      const res = await t.post("/v1/token/refresh", { refresh_token });
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe("invalid_token");
    }
  });

  it("refuses the refresh token of a disabled account without spending it", async () => {
    const { session, userId } = await createConfirmedUser(t, "off");
    await t.deps.db.update(users).set({ disabledAt: clock.now() }).where(eq(users.id, userId));
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(401);
    await t.deps.db.update(users).set({ disabledAt: null }).where(eq(users.id, userId));
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(200);
  });

  it("refuses a refresh token past REFRESH_TOKEN_TTL", async () => {
    const { session } = await createConfirmedUser(t, "old");
    clock.advance(t.deps.config.refreshTokenTtl * 1000 + 1);
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(401);
  });

  it("answers /v1/me without a token, or with garbage, with 401 and WWW-Authenticate: Bearer", async () => {
    const cases: Array<Record<string, string>> = [{}, { authorization: "Bearer not.a.jwt" }, { authorization: "Basic abc" }];
    for (const headers of cases) {
      const res = await t.request("/v1/me", { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await errorCode(res)).toBe("invalid_token");
    }
  });

  it("refuses an access token past ACCESS_TOKEN_TTL", async () => {
    const { session } = await createConfirmedUser(t, "expiring");
    expect((await t.request("/v1/me", { token: session.access_token })).status).toBe(200);
    clock.advance(t.deps.config.accessTokenTtl * 1000 + 6_000); // past the TTL and the 5 s clock tolerance
    expect((await t.request("/v1/me", { token: session.access_token })).status).toBe(401);
  });

  it("requires a valid access token to log out", async () => {
    const res = await t.post("/v1/logout", {});
    expect(res.status).toBe(401);
  });
});
