import { expect } from "vitest";
import { decodeJwt } from "jose";
import { createConfirmedUser, PASSWORD, type SessionBody } from "./flows.ts";
import type { TestService } from "./service.ts";
import { totpCode } from "./totp.ts";

export interface MfaRequired {
  mfa_required: true;
  mfa_token: string;
  expires_in: number;
  methods: string[];
  passkey_options?: { challenge: string; allowCredentials: Array<{ id: string }> };
}

/** The code an authenticator app shows now (on the service's clock), or `steps` steps away. */
export function codeNow(t: TestService, secret: string, steps = 0): Promise<string> {
  return totpCode(secret, t.deps.clock.now() + steps * 30_000);
}

/** Moves the clock to the next 30-second step, so the next code is a new one. */
export function nextStep(clock: { advance(ms: number): void }) {
  clock.advance(30_000);
}

export async function enrollTotp(t: TestService, accessToken: string, password = PASSWORD) {
  const res = await t.post("/v1/mfa/totp/enroll", { password }, accessToken);
  expect(res.status).toBe(200);
  return (await res.json()) as { secret: string; otpauth_uri: string; qr_svg: string };
}

/** A confirmed user with an activated authenticator app; the clock has moved past the activating code's step. */
export async function userWithTotp(t: TestService, clock: { advance(ms: number): void }, label = "totp") {
  const user = await createConfirmedUser(t, label);
  const { secret } = await enrollTotp(t, user.session.access_token);
  const res = await t.post("/v1/mfa/totp/activate", { code: await codeNow(t, secret) }, user.session.access_token);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { recovery_codes: string[] };
  nextStep(clock);
  return { ...user, secret, recoveryCodes: body.recovery_codes };
}

/** POST /v1/login with the right password for a user with a factor: the second step's answer. */
export async function passwordStep(t: TestService, email: string, password = PASSWORD, headers: Record<string, string> = {}) {
  const res = await t.request("/v1/login", { method: "POST", json: { email, password }, headers });
  expect(res.status).toBe(200);
  const body = (await res.json()) as MfaRequired & { session?: unknown };
  expect(body.mfa_required).toBe(true);
  expect(body.session).toBeUndefined();
  return body;
}

export async function finishLogin(t: TestService, proof: Record<string, unknown>, headers: Record<string, string> = {}) {
  return t.request("/v1/login/mfa", { method: "POST", json: proof, headers });
}

export function amrOf(session: SessionBody): unknown {
  return decodeJwt(session.access_token).amr;
}
