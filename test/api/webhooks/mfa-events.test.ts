import { beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { adminKey } from "../../support/admin.ts";
import { createConfirmedUser, PASSWORD, type SessionBody } from "../../support/flows.ts";
import { codeNow, finishLogin, passwordStep, userWithTotp } from "../../support/mfa.ts";
import { newReceiver, serviceWithReceivers, type Receiver, type WebhookPayload } from "../../support/receivers.ts";
import type { TestClock, TestService } from "../../support/service.ts";
import { softAuthenticator } from "../../support/webauthn.ts";

// Second factors (src/routes/mfa.ts, login-second-step.ts, the admin reset): mfa.enabled and
// mfa.disabled with the method, and session.created with how the session was opened.

let t: TestService;
let clock: TestClock;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await newReceiver("mfa-events");
  ({ t, clock } = await serviceWithReceivers([receiver], { settings: { WEBAUTHN_RP_ID: "example.test" } }));
});

async function eventsFor(userId: string): Promise<WebhookPayload[]> {
  await t.settle();
  return (await receiver.accepted()).filter((p) => p.data.user.id === userId).sort((a, b) => a.data.sequence - b.data.sequence);
}

const summary = (events: WebhookPayload[]) =>
  events.map(({ type, data: { event_id: _id, sequence: _seq, user: _user, ...own } }) => [type, own]);

describe("second factors", () => {
  it("announce mfa.enabled when an authenticator app is turned on, and a login finished with it as session.created (pwd, otp)", async () => {
    const user = await userWithTotp(t, clock, "mfa-on");
    expect(summary((await eventsFor(user.userId)).slice(3))).toEqual([["mfa.enabled", { method: "totp" }]]);

    const step = await passwordStep(t, user.email);
    // The password alone opens no session, so nothing is announced yet.
    expect(await eventsFor(user.userId)).toHaveLength(4);
    const res = await finishLogin(t, { mfa_token: step.mfa_token, code: await codeNow(t, user.secret) });
    expect(res.status).toBe(200);
    const { session } = (await res.json()) as { session: SessionBody };
    expect(summary((await eventsFor(user.userId)).slice(4))).toEqual([
      ["session.created", { session_id: decodeJwt(session.access_token).sid, amr: ["pwd", "otp"], reason: "login" }],
    ]);
  });

  it("announce mfa.disabled when the app is removed", async () => {
    const user = await userWithTotp(t, clock, "mfa-off");
    const list = (await (await t.request("/v1/mfa", { token: user.session.access_token })).json()) as { factors: Array<{ id: string }> };
    const res = await t.post("/v1/mfa/remove", { factor_id: list.factors[0]!.id, password: PASSWORD, code: await codeNow(t, user.secret) }, user.session.access_token);
    expect(res.status).toBe(200);
    expect(summary((await eventsFor(user.userId)).slice(4))).toEqual([["mfa.disabled", { method: "totp" }]]);
  });

  it("announce mfa.disabled (all) when the admin API resets a user's factors", async () => {
    const admin = await adminKey(t, ["users:write"]);
    const user = await userWithTotp(t, clock, "mfa-reset");
    expect((await admin.call("POST", `/users/${user.userId}/mfa/reset`, {})).status).toBe(200);
    expect(summary((await eventsFor(user.userId)).slice(4))).toEqual([["mfa.disabled", { method: "all" }]]);
  });
});

describe("passkeys", () => {
  it("announce mfa.enabled (passkey) when one is added, and a sign-in with it alone as session.created (hwk)", async () => {
    const user = await createConfirmedUser(t, "passkey-events");
    const authenticator = await softAuthenticator({ rpId: "example.test", origin: "https://app.example.test", counter: 0 });
    const options = await t.post("/v1/mfa/passkeys/options", { password: PASSWORD }, user.session.access_token);
    const { challenge } = ((await options.json()) as { options: { challenge: string } }).options;
    const added = await t.post("/v1/mfa/passkeys", { passkey: await authenticator.register(challenge), name: "Laptop" }, user.session.access_token);
    expect(added.status).toBe(201);

    const signIn = (await (await t.post("/v1/login/passkey/options", {})).json()) as { options: { challenge: string } };
    const res = await t.post("/v1/login/passkey", { passkey: await authenticator.assert(signIn.options.challenge) });
    expect(res.status).toBe(200);
    const { session } = (await res.json()) as { session: SessionBody };
    expect(summary((await eventsFor(user.userId)).slice(3))).toEqual([
      ["mfa.enabled", { method: "passkey" }],
      ["session.created", { session_id: decodeJwt(session.access_token).sid, amr: ["hwk"], reason: "login" }],
    ]);
  });
});
