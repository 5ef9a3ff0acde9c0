import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { passkeys } from "../../../src/db/schema.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { createConfirmedUser, errorCode, login, PASSWORD, type SessionBody } from "../../support/flows.ts";
import { mailsTo } from "../../support/mail.ts";
import { amrOf, finishLogin, passwordStep } from "../../support/mfa.ts";
import { softAuthenticator } from "../../support/webauthn.ts";

// Passkey ceremonies through @simplewebauthn/server inside workerd, answered by a software
// authenticator (test/support/webauthn.ts). The SPA runs at ALLOWED_ORIGINS, under the RP ID.
const RP_ID = "example.test";
const ORIGIN = "https://app.example.test";
const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  t = await createTestService({ clock, settings: { WEBAUTHN_RP_ID: RP_ID } });
});

interface Options {
  challenge: string;
  rp?: { id: string; name: string };
  user?: { id: string; name: string };
  allowCredentials?: Array<{ id: string }>;
  excludeCredentials?: Array<{ id: string }>;
  userVerification?: string;
  authenticatorSelection?: { residentKey: string };
}

async function registrationOptions(accessToken: string, password = PASSWORD) {
  const res = await t.post("/v1/mfa/passkeys/options", { password }, accessToken);
  expect(res.status).toBe(200);
  return ((await res.json()) as { options: Options }).options;
}

/** A confirmed user who has registered one passkey. */
async function userWithPasskey(label: string, counter = 0) {
  const user = await createConfirmedUser(t, label);
  const authenticator = await softAuthenticator({ rpId: RP_ID, origin: ORIGIN, counter });
  const options = await registrationOptions(user.session.access_token);
  const res = await t.post("/v1/mfa/passkeys", { passkey: await authenticator.register(options.challenge), name: "Laptop" }, user.session.access_token);
  expect(res.status).toBe(201);
  const body = (await res.json()) as { passkey: { id: string }; recovery_codes: string[] };
  return { ...user, authenticator, passkeyId: body.passkey.id, recoveryCodes: body.recovery_codes };
}

describe("registering a passkey", () => {
  it("asks for the password first: a stolen access token alone gets no options", async () => {
    const user = await createConfirmedUser(t, "pk-stolen");
    expect((await t.post("/v1/mfa/passkeys/options", {}, user.session.access_token)).status).toBe(400);
    expect((await t.post("/v1/mfa/passkeys/options", { password: "not the password" }, user.session.access_token)).status).toBe(401);
  });

  it("offers options for the configured relying party, asking for a discoverable credential", async () => {
    const user = await createConfirmedUser(t, "pk-options");
    const options = await registrationOptions(user.session.access_token);
    expect(options.rp).toEqual({ id: RP_ID, name: "Acme" });
    expect(options.user?.name).toBe(user.email);
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(options.authenticatorSelection?.residentKey).toBe("required");
  });

  it("stores the credential, hands out recovery codes for a first factor, lists it and mails the owner", async () => {
    const user = await userWithPasskey("pk-register");
    expect(user.recoveryCodes).toHaveLength(10);
    const list = (await (await t.request("/v1/mfa", { token: user.session.access_token })).json()) as { factors: Array<{ type: string; name: string }> };
    expect(list.factors).toMatchObject([{ type: "passkey", name: "Laptop" }]);
    const [row] = await t.deps.db.select().from(passkeys).where(eq(passkeys.userId, user.userId));
    expect(row!.credentialId).toBe(user.authenticator.id);
    await t.settle();
    expect((await mailsTo(user.email)).at(-1)?.body.subject).toBe("A passkey was added to your Acme account");
  });

  it("uses each challenge once, and only for the user and client it was issued to", async () => {
    const user = await createConfirmedUser(t, "pk-challenge");
    const other = await createConfirmedUser(t, "pk-challenge-other");
    const authenticator = await softAuthenticator({ rpId: RP_ID, origin: ORIGIN });
    const options = await registrationOptions(user.session.access_token);
    const response = await authenticator.register(options.challenge);
    expect((await t.post("/v1/mfa/passkeys", { passkey: response }, other.session.access_token)).status).toBe(401);
    expect((await t.request("/v1/mfa/passkeys", { method: "POST", json: { passkey: response }, token: user.session.access_token, headers: { "cf-connecting-ip": "198.51.100.77" } })).status).toBe(401);
    expect((await t.post("/v1/mfa/passkeys", { passkey: response }, user.session.access_token)).status).toBe(201);
    expect((await t.post("/v1/mfa/passkeys", { passkey: response }, user.session.access_token)).status).toBe(401);
  });

  it("refuses a challenge we never issued, an expired one, another origin and another RP ID", async () => {
    const user = await createConfirmedUser(t, "pk-refused");
    const token = user.session.access_token;
    const authenticator = await softAuthenticator({ rpId: RP_ID, origin: ORIGIN });
    const refused = async (passkey: unknown) => {
      const res = await t.post("/v1/mfa/passkeys", { passkey }, token);
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe("invalid_credentials");
    };
    await refused(await authenticator.register("A".repeat(43)));
    await refused(await authenticator.register((await registrationOptions(token)).challenge, { origin: "https://evil.example" }));
    await refused(await authenticator.register((await registrationOptions(token)).challenge, { rpId: "evil.example" }));
    await refused(await authenticator.register((await registrationOptions(token)).challenge, { type: "webauthn.get" }));
    const late = await registrationOptions(token);
    clock.advance(301_000);
    await refused(await authenticator.register(late.challenge));
    expect(await t.deps.db.select().from(passkeys).where(eq(passkeys.userId, user.userId))).toEqual([]);
  });
});

describe("a passkey as second factor", () => {
  it("login answers passkey options for the user's credentials; the assertion finishes it with amr pwd + hwk", async () => {
    const user = await userWithPasskey("pk-second");
    const step = await passwordStep(t, user.email);
    expect(step.methods).toEqual(["passkey", "recovery_code"]);
    expect(step.passkey_options?.allowCredentials.map((c) => c.id)).toEqual([user.authenticator.id]);
    const res = await finishLogin(t, { mfa_token: step.mfa_token, passkey: await user.authenticator.assert(step.passkey_options!.challenge, { userVerified: false }) });
    expect(res.status).toBe(200);
    expect(amrOf(((await res.json()) as { session: SessionBody }).session)).toEqual(["pwd", "hwk"]);
  });

  it("refuses an assertion of another login's challenge, or of another origin", async () => {
    const user = await userWithPasskey("pk-wrong-challenge");
    const first = await passwordStep(t, user.email);
    const second = await passwordStep(t, user.email);
    const crossed = await finishLogin(t, { mfa_token: second.mfa_token, passkey: await user.authenticator.assert(first.passkey_options!.challenge) });
    expect(crossed.status).toBe(401);
    const foreign = await finishLogin(t, { mfa_token: second.mfa_token, passkey: await user.authenticator.assert(second.passkey_options!.challenge, { origin: "https://evil.example" }) });
    expect(foreign.status).toBe(401);
    expect((await finishLogin(t, { mfa_token: second.mfa_token, passkey: await user.authenticator.assert(second.passkey_options!.challenge) })).status).toBe(200);
  });

  it("refuses a sign counter that did not grow (a cloned authenticator)", async () => {
    const user = await userWithPasskey("pk-counter", 10);
    const step = await passwordStep(t, user.email);
    expect((await finishLogin(t, { mfa_token: step.mfa_token, passkey: await user.authenticator.assert(step.passkey_options!.challenge) })).status).toBe(200);
    const again = await passwordStep(t, user.email);
    const cloned = await finishLogin(t, { mfa_token: again.mfa_token, passkey: await user.authenticator.assert(again.passkey_options!.challenge, { counter: 11 }) });
    expect(cloned.status).toBe(401);
    const grown = await finishLogin(t, { mfa_token: again.mfa_token, passkey: await user.authenticator.assert(again.passkey_options!.challenge, { counter: 12 }) });
    expect(grown.status).toBe(200);
  });

  it("refuses another user's passkey", async () => {
    const owner = await userWithPasskey("pk-owner");
    const thief = await userWithPasskey("pk-thief");
    const step = await passwordStep(t, owner.email);
    expect((await finishLogin(t, { mfa_token: step.mfa_token, passkey: await thief.authenticator.assert(step.passkey_options!.challenge) })).status).toBe(401);
  });
});

describe("signing in with a passkey alone", () => {
  async function options() {
    const res = await t.post("/v1/login/passkey/options", {});
    expect(res.status).toBe(200);
    return ((await res.json()) as { options: Options }).options;
  }

  it("opens a session with amr hwk for a user-verified assertion", async () => {
    const user = await userWithPasskey("pk-alone");
    const opts = await options();
    expect(opts.allowCredentials ?? []).toEqual([]);
    expect(opts.userVerification).toBe("required");
    const res = await t.post("/v1/login/passkey", { passkey: await user.authenticator.assert(opts.challenge) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { user: { email: string }; session: SessionBody };
    expect(body.user.email).toBe(user.email);
    expect(amrOf(body.session)).toEqual(["hwk"]);
  });

  it("refuses an assertion without user verification: presence alone is one factor", async () => {
    const user = await userWithPasskey("pk-no-uv");
    const res = await t.post("/v1/login/passkey", { passkey: await user.authenticator.assert((await options()).challenge, { userVerified: false }) });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("invalid_credentials");
  });

  it("uses each challenge once", async () => {
    const user = await userWithPasskey("pk-once");
    const challenge = (await options()).challenge;
    expect((await t.post("/v1/login/passkey", { passkey: await user.authenticator.assert(challenge) })).status).toBe(200);
    expect((await t.post("/v1/login/passkey", { passkey: await user.authenticator.assert(challenge) })).status).toBe(401);
  });

  it("refuses an unknown credential and a challenge we never issued", async () => {
    const stranger = await softAuthenticator({ rpId: RP_ID, origin: ORIGIN });
    expect((await t.post("/v1/login/passkey", { passkey: await stranger.assert((await options()).challenge) })).status).toBe(401);
    const user = await userWithPasskey("pk-forged");
    expect((await t.post("/v1/login/passkey", { passkey: await user.authenticator.assert("B".repeat(43)) })).status).toBe(401);
  });
});

describe("removing a passkey", () => {
  it("needs the password and a current factor (here the passkey itself, on a fresh challenge)", async () => {
    const user = await userWithPasskey("pk-remove");
    const token = user.session.access_token;
    const challenge = async () => ((await (await t.post("/v1/mfa/passkeys/challenge", {}, token)).json()) as { options: Options }).options.challenge;
    const noPassword = await t.post("/v1/mfa/remove", { factor_id: user.passkeyId, password: "not it", passkey: await user.authenticator.assert(await challenge()) }, token);
    expect(noPassword.status).toBe(401);
    const neverIssued = await t.post("/v1/mfa/remove", { factor_id: user.passkeyId, password: PASSWORD, passkey: await user.authenticator.assert("C".repeat(43)) }, token);
    expect(neverIssued.status).toBe(401);
    const res = await t.post("/v1/mfa/remove", { factor_id: user.passkeyId, password: PASSWORD, passkey: await user.authenticator.assert(await challenge()) }, token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ factors: [], recovery_codes_left: 0 });
    expect(amrOf(await login(t, user.email))).toEqual(["pwd"]);
    // Its passwordless sign-in is gone too.
    const opts = ((await (await t.post("/v1/login/passkey/options", {})).json()) as { options: Options }).options;
    expect((await t.post("/v1/login/passkey", { passkey: await user.authenticator.assert(opts.challenge) })).status).toBe(401);
  });
});

describe("hostile passkey bodies", () => {
  const garbage = [
    ["clientDataJSON that is not base64url", { id: "abc", rawId: "abc", type: "public-key", response: { clientDataJSON: "!!!" } }],
    ["clientDataJSON that is not JSON", { id: "abc", rawId: "abc", type: "public-key", response: { clientDataJSON: "bm90IGpzb24" } }],
    ["no signature or authenticator data", { id: "abc", rawId: "abc", type: "public-key", response: { clientDataJSON: btoa(JSON.stringify({ type: "webauthn.get", challenge: "D".repeat(43), origin: ORIGIN })).replace(/=+$/, "") } }],
  ] as const;

  it.each(garbage)("answers a passkey with %s in the one error shape, never 500", async (_name, passkey) => {
    const user = await userWithPasskey("pk-garbage");
    const step = await passwordStep(t, user.email);
    for (const res of [
      await t.post("/v1/login/passkey", { passkey }),
      await finishLogin(t, { mfa_token: step.mfa_token, passkey }),
      await t.post("/v1/mfa/passkeys", { passkey }, user.session.access_token),
    ]) {
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_credentials");
    }
    expect((await t.post("/v1/login/passkey", { passkey: { ...passkey, type: "password" } })).status).toBe(400);
  });
});

describe("without WEBAUTHN_RP_ID", () => {
  it("has no passkey endpoints", async () => {
    const off = await createTestService({ clock });
    const user = await createConfirmedUser(off, "pk-off");
    expect((await off.post("/v1/login/passkey/options", {})).status).toBe(404);
    expect((await off.post("/v1/mfa/passkeys/options", { password: PASSWORD }, user.session.access_token)).status).toBe(404);
  });
});

describe("WEBAUTHN_RP_ID on the Public Suffix List", () => {
  it("is refused by the first ceremony as bad_environment naming the setting; password sign-in still works", async () => {
    const shared = await createTestService({
      clock,
      settings: { WEBAUTHN_RP_ID: "workers.dev", PUBLIC_URL: "https://edge-auth.workers.dev", ALLOWED_ORIGINS: "https://my-app.workers.dev" },
    });
    const user = await createConfirmedUser(shared, "pk-psl");
    const res = await shared.post("/v1/mfa/passkeys/options", { password: PASSWORD }, user.session.access_token);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: "bad_environment", message: expect.stringMatching(/WEBAUTHN_RP_ID is a public suffix/) });
    expect((await shared.post("/v1/login/passkey/options", {})).status).toBe(500);
    expect((await login(shared, user.email)).access_token).toBeTruthy();
  });
});
