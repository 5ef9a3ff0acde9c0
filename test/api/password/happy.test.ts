import { beforeAll, describe, expect, it } from "vitest";
import { createTestService, type TestService } from "../../support/service.ts";
import { mailsTo, tokenFrom } from "../../support/mail.ts";
import { createConfirmedUser, login } from "../../support/flows.ts";

let t: TestService;
beforeAll(async () => {
  t = await createTestService();
});

async function requestReset(email: string) {
  const res = await t.post("/v1/password/forgot", { email });
  expect(res.status).toBe(202);
  await t.settle();
  const mail = (await mailsTo(email)).at(-1)!;
  expect(mail.body.text).toMatch(/https:\/\/auth\.example\.test\/reset#token=/);
  return tokenFrom(mail);
}

describe("forgot → reset → login", () => {
  it("resets the password through the mailed link, ends old sessions and tells the owner", async () => {
    const { email, session } = await createConfirmedUser(t, "reset");
    const token = await requestReset(email);

    const reset = await t.post("/v1/password/reset", { token, password: "a brand new passphrase" });
    expect(reset.status).toBe(200);
    const body = (await reset.json()) as Record<string, unknown>;
    expect(body).toEqual({ message: expect.any(String) });
    expect(body).not.toHaveProperty("session"); // no automatic login

    expect((await t.post("/v1/login", { email, password: "correct horse battery" })).status).toBe(401);
    await login(t, email, "a brand new passphrase");
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(401);

    await t.settle();
    const changed = (await mailsTo(email)).at(-1)!;
    expect(changed.body.subject).toMatch(/password/i);
    expect(changed.body.text).toContain("203.0.113.7");
    expect(changed.body.text).toMatch(/https:\/\/auth\.example\.test\/reset/);
  });
});

describe("change password", () => {
  it("sets the new password, ends every other session, answers with a fresh session and mails the owner", async () => {
    const { email, session: first } = await createConfirmedUser(t, "change");
    const second = await login(t, email);

    const res = await t.post(
      "/v1/password/change",
      { current_password: "correct horse battery", new_password: "another fine passphrase" },
      second.access_token,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { session } = (await res.json()) as { session: { access_token: string; refresh_token: string } };

    expect((await t.post("/v1/token/refresh", { refresh_token: first.refresh_token })).status).toBe(401);
    expect((await t.post("/v1/token/refresh", { refresh_token: second.refresh_token })).status).toBe(401);
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(200);
    expect((await t.request("/v1/me", { token: session.access_token })).status).toBe(200);

    await login(t, email, "another fine passphrase");
    expect((await t.post("/v1/login", { email, password: "correct horse battery" })).status).toBe(401);
    await t.settle();
    expect((await mailsTo(email)).at(-1)!.body.subject).toMatch(/password/i);
  });
});
