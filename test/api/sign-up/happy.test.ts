import { beforeAll, describe, expect, it } from "vitest";
import { createTestService, RESEND_KEY, type TestService } from "../../support/service.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";

let t: TestService;
beforeAll(async () => {
  t = await createTestService();
});

async function registerAndConfirm(email: string, password = "correct horse battery") {
  const reg = await t.post("/v1/register", { email, password, name: "Ana" });
  expect(reg.status).toBe(202);
  await t.settle();
  const [mail] = await mailsTo(email);
  const confirmed = await t.post("/v1/confirm", { token: tokenFrom(mail), password });
  expect(confirmed.status).toBe(200);
  return (await confirmed.json()) as { user: Record<string, unknown>; session: Record<string, string | number> };
}

describe("register → confirm → login → me → refresh → logout", () => {
  it("walks the whole flow, mailing the confirmation link through the Resend API", async () => {
    const email = uniqueEmail("flow");
    const reg = await t.post("/v1/register", { email: `  ${email.toUpperCase()} `, password: "correct horse battery", name: "Ana" });
    expect(reg.status).toBe(202);
    expect(await reg.json()).toEqual({ message: expect.any(String) });
    await t.settle();

    const mails = await mailsTo(email);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.headers.authorization).toBe(`Bearer ${RESEND_KEY}`);
    expect(mail.headers.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(mail.body.from).toBe("Acme <no-reply@acme.test>");
    expect([mail.body.to].flat()).toEqual([email]);
    expect(mail.body.subject).toContain("Acme");
    expect(mail.body.html).toContain("Ana");
    expect(mail.body.text).toMatch(/https:\/\/auth\.example\.test\/confirm#token=[A-Za-z0-9_-]{43}/);

    const before = await t.post("/v1/login", { email, password: "correct horse battery" });
    expect(before.status).toBe(403);
    expect(((await before.json()) as { error: { code: string } }).error.code).toBe("email_not_confirmed");

    const confirmed = await t.post("/v1/confirm", { token: tokenFrom(mail), password: "correct horse battery" });
    expect(confirmed.status).toBe(200);
    expect(confirmed.headers.get("cache-control")).toBe("no-store");
    const confirmedBody = (await confirmed.json()) as { user: Record<string, unknown>; session: Record<string, unknown> };
    expect(confirmedBody.user).toMatchObject({ email, name: "Ana", roles: ["user"], email_confirmed: true });
    expect(confirmedBody.session).toMatchObject({
      token_type: "Bearer",
      expires_in: t.deps.config.accessTokenTtl,
      refresh_expires_in: t.deps.config.refreshTokenTtl,
    });

    const login = await t.post("/v1/login", { email, password: "correct horse battery" });
    expect(login.status).toBe(200);
    const { session } = (await login.json()) as { session: { access_token: string; refresh_token: string } };

    const me = await t.request("/v1/me", { token: session.access_token });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: unknown }).user).toMatchObject({ email, roles: ["user"], email_confirmed: true });

    const refreshed = await t.post("/v1/token/refresh", { refresh_token: session.refresh_token });
    expect(refreshed.status).toBe(200);
    const next = ((await refreshed.json()) as { session: { access_token: string; refresh_token: string } }).session;
    expect(next.refresh_token).not.toBe(session.refresh_token);

    const logout = await t.post("/v1/logout", {}, next.access_token);
    expect(logout.status).toBe(204);
    const afterLogout = await t.post("/v1/token/refresh", { refresh_token: next.refresh_token });
    expect(afterLogout.status).toBe(401);
  });

  it("logs out every session of the user with all: true", async () => {
    const email = uniqueEmail("all");
    const first = await registerAndConfirm(email);
    const second = (await (await t.post("/v1/login", { email, password: "correct horse battery" })).json()) as {
      session: { access_token: string; refresh_token: string };
    };
    expect((await t.post("/v1/logout", { all: true }, second.session.access_token)).status).toBe(204);
    expect((await t.post("/v1/token/refresh", { refresh_token: first.session.refresh_token })).status).toBe(401);
    expect((await t.post("/v1/token/refresh", { refresh_token: second.session.refresh_token })).status).toBe(401);
  });

  it("publishes the current and the previous signing key", async () => {
    const res = await t.request("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Array<Record<string, string>> };
    expect(keys.map((k) => k.kid)).toEqual(["test-1", "test-0"]);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
      expect(key.d).toBeUndefined();
    }
  });
});
