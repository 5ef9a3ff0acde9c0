import type { Deps, RequestInfo } from "../deps.ts";
import { encodeBase64Url } from "../lib/crypto/encoding.ts";
import { recordAudit } from "./audit.ts";
import { enrollableMethods, hasSecondFactor, methodsOf, type Factors } from "./factors.ts";
import { createMfaToken, MFA_TOKEN_TTL_SECONDS, passkeyChallengeOf } from "./mfa-tokens.ts";
import { authenticationOptions, relyingParty } from "./passkeys.ts";

/**
 * After the right password: whether the login needs a second step, and if so the answer and the
 * writes for the caller's batch. No session is opened here.
 * - A user with a factor gets an mfa_token for POST /v1/login/mfa, the methods they can use, and,
 *   when they have passkeys, the WebAuthn options (their challenge is derived from the token).
 * - Under MFA_REQUIRED a user without one gets an mfa_token that can only enrol a factor
 *   (POST /v1/mfa/totp/enroll + activate, or the passkey registration); activating it opens the
 *   session. No restricted session exists: other services verify our access tokens without us,
 *   so any access token must mean a finished login.
 */
export async function secondStep(deps: Deps, user: { id: string }, factors: Factors, client: RequestInfo, now: number) {
  const { config, db } = deps;
  if (hasSecondFactor(factors)) {
    const issued = await createMfaToken(deps, user.id, "mfa_login", client, now);
    const methods = methodsOf(factors, config);
    const rp = relyingParty(config);
    const passkeyOptions =
      rp && methods.includes("passkey") ? await authenticationOptions(rp, factors.passkeys, await passkeyChallengeOf(deps, issued.token), "preferred") : undefined;
    return {
      writes: [issued.write, recordAudit(db, "mfa_required", user.id, client, now)] as const,
      body: { mfa_required: true, mfa_token: issued.token, expires_in: MFA_TOKEN_TTL_SECONDS, methods, ...(passkeyOptions ? { passkey_options: passkeyOptions } : {}) },
    };
  }
  if (config.mfaRequired) {
    const issued = await createMfaToken(deps, user.id, "mfa_enroll", client, now);
    return {
      writes: [issued.write, recordAudit(db, "mfa_enrollment_required", user.id, client, now)] as const,
      body: { mfa_enrollment_required: true, mfa_token: issued.token, expires_in: MFA_TOKEN_TTL_SECONDS, methods: enrollableMethods(config) },
    };
  }
  return null;
}

/** The challenge a passkey must answer to finish the login of this mfa_token. */
export async function loginPasskeyChallenge(deps: Pick<Deps, "tokenKey">, mfaToken: string): Promise<string> {
  return encodeBase64Url(await passkeyChallengeOf(deps, mfaToken));
}
