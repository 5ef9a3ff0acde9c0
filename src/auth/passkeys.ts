import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { and, eq, lt } from "drizzle-orm";
import * as z from "zod";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { passkeys } from "../db/schema.ts";
import { decodeBase64Url, decodeUtf8, encodeBase64Url, encodeUtf8 } from "../lib/crypto/encoding.ts";
import { randomId } from "../lib/crypto/tokens.ts";
import { AppError } from "../lib/errors.ts";
import { publicSuffixProblem } from "../lib/relying-party.ts";
import type { PasskeyRow } from "./factors.ts";

// WebAuthn ceremonies through @simplewebauthn/server (Web Crypto only, so it runs in workerd). The
// relying party and the origins come from configuration (WEBAUTHN_RP_ID, ALLOWED_ORIGINS and
// PUBLIC_URL), never from the request.

// Loaded by the first ceremony, not with the Worker: the library and the certificate parsing it
// brings (asn1js, @peculiar/x509 and their decorators) run a good part of the start-up CPU at module
// load, which every request without a passkey would pay. The bundle keeps them; only their
// evaluation waits. The same goes for the Public Suffix List the RP ID is checked against.
async function webauthn(rp: RelyingParty) {
  const problem = await publicSuffixProblem(rp.rpId);
  if (problem) throw new AppError("bad_environment", `The service is misconfigured: WEBAUTHN_RP_ID ${problem}.`);
  return import("@simplewebauthn/server");
}

/** How long a browser shows its passkey prompt; our challenges live MFA_TOKEN_TTL_SECONDS. */
const CEREMONY_TIMEOUT_MS = 120_000;

/** A credential as the browser serialises it (PublicKeyCredential.toJSON()); the library checks the rest. */
export const passkeyResponseField = z.object({
  id: z.string().min(1).max(1400),
  rawId: z.string().min(1).max(1400),
  type: z.literal("public-key"),
  response: z.looseObject({ clientDataJSON: z.string().min(1).max(4096) }),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
});
export type PasskeyResponse = z.output<typeof passkeyResponseField>;

export const passkeyNameField = z.string().trim().min(1).max(64).regex(/^[^\p{Cc}\p{Cf}]*$/u, "must not contain control characters");

type RelyingParty = { rpId: string; origins: string[]; name: string };

/** The relying party, or null while passkeys are off (WEBAUTHN_RP_ID unset). */
export function relyingParty(config: Pick<Config, "webauthnRpId" | "webauthnOrigins" | "appName">): RelyingParty | null {
  return config.webauthnRpId === undefined ? null : { rpId: config.webauthnRpId, origins: config.webauthnOrigins, name: config.appName };
}

/** The challenge a response answers (from its clientDataJSON), or null if it carries none we could have issued. */
export function challengeOf(response: PasskeyResponse): string | null {
  try {
    const clientData = JSON.parse(decodeUtf8(decodeBase64Url(response.response.clientDataJSON))) as { challenge?: unknown };
    return typeof clientData.challenge === "string" && /^[A-Za-z0-9_-]{43}$/.test(clientData.challenge) ? clientData.challenge : null;
  } catch {
    return null;
  }
}

/**
 * Options for a new passkey. Resident keys are asked for, so the passkey can also sign in without
 * the address; the user's existing passkeys are excluded so one authenticator is not added twice.
 */
export async function registrationOptions(rp: RelyingParty, user: { id: string; email: string; name: string | null }, existing: PasskeyRow[], challenge: Uint8Array<ArrayBuffer>) {
  const { generateRegistrationOptions } = await webauthn(rp);
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.rpId,
    userID: encodeUtf8(user.id),
    userName: user.email,
    userDisplayName: user.name ?? user.email,
    challenge,
    timeout: CEREMONY_TIMEOUT_MS,
    attestationType: "none",
    excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
    authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
  });
}

/** Verifies a registration against the challenge this request spent; the new row, or null. */
export async function verifyRegistration(rp: RelyingParty, response: PasskeyResponse, challenge: string, userId: string, name: string, now: number) {
  const { verifyRegistrationResponse } = await webauthn(rp);
  try {
    const result = await verifyRegistrationResponse({
      response: response as unknown as RegistrationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      requireUserVerification: false,
    });
    if (!result.verified) return null;
    const { credential, credentialBackedUp } = result.registrationInfo;
    const row: PasskeyRow = {
      id: randomId(),
      userId,
      credentialId: credential.id,
      publicKey: encodeBase64Url(credential.publicKey),
      counter: credential.counter,
      transports: credential.transports ?? [],
      backedUp: credentialBackedUp,
      name,
      createdAt: now,
      lastUsedAt: null,
    };
    return row;
  } catch {
    // Malformed attestation, wrong origin or RP ID, unsupported algorithm: all just "not verified".
    return null;
  }
}

/**
 * Options to sign with a passkey. `allow` empty means any passkey of this site (a passwordless
 * sign-in, where the browser offers the user's discoverable credentials).
 */
export async function authenticationOptions(rp: RelyingParty, allow: PasskeyRow[], challenge: Uint8Array<ArrayBuffer>, userVerification: "required" | "preferred") {
  const { generateAuthenticationOptions } = await webauthn(rp);
  return generateAuthenticationOptions({
    rpID: rp.rpId,
    allowCredentials: allow.map((p) => ({ id: p.credentialId, transports: p.transports })),
    challenge,
    timeout: CEREMONY_TIMEOUT_MS,
    userVerification,
  });
}

/**
 * Verifies an assertion by `row` for `challenge`; the counter to record, or null. The library
 * refuses a counter that did not grow (a cloned authenticator) unless both are 0 (not kept).
 * A passwordless sign-in requires user verification (PIN or biometric): the passkey is then both
 * factors.
 */
export async function verifyAssertion(rp: RelyingParty, response: PasskeyResponse, challenge: string, row: PasskeyRow, requireUserVerification: boolean) {
  if (response.id !== row.credentialId) return null;
  const { verifyAuthenticationResponse } = await webauthn(rp);
  try {
    const result = await verifyAuthenticationResponse({
      response: response as unknown as AuthenticationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      credential: { id: row.credentialId, publicKey: decodeBase64Url(row.publicKey) as Uint8Array<ArrayBuffer>, counter: row.counter, transports: row.transports as never },
      requireUserVerification,
    });
    return result.verified ? { newCounter: result.authenticationInfo.newCounter } : null;
  } catch {
    return null;
  }
}

/**
 * Records a verified assertion's counter, only if it still grows (or both are 0): of two requests
 * with assertions of one cloned key, one wins.
 */
export function claimPasskeyUse(db: Db, row: PasskeyRow, newCounter: number, now: number) {
  return db
    .update(passkeys)
    .set({ counter: newCounter, lastUsedAt: now })
    .where(and(eq(passkeys.id, row.id), newCounter === 0 ? eq(passkeys.counter, 0) : lt(passkeys.counter, newCounter)))
    .returning({ id: passkeys.id });
}
