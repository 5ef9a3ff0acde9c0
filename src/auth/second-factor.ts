import type { BatchItem } from "drizzle-orm/batch";
import * as z from "zod";
import type { Deps } from "../deps.ts";
import type { Factors, RecoveryCodeRow } from "./factors.ts";
import { claimPasskeyUse, passkeyResponseField, relyingParty, verifyAssertion, type PasskeyResponse } from "./passkeys.ts";
import { claimRecoveryCode, findRecoveryCode } from "./recovery.ts";
import { acceptableTotpStep, claimTotpStep } from "./totp.ts";

// One check for every place a second factor is asked for: finishing a login, removing a factor,
// new recovery codes. A right proof comes with the statement that claims it (the TOTP step, the
// recovery code, the passkey's counter) for the caller's batch, which must get a row back from it:
// that is what makes each proof work once, also under concurrent requests.

export const proofFields = {
  code: z.string().regex(/^[0-9]{6}$/, "must be the 6 digits from the authenticator app").optional(),
  recovery_code: z.string().max(64).optional(),
  passkey: passkeyResponseField.optional(),
};

export interface Proof {
  code?: string | undefined;
  recovery_code?: string | undefined;
  passkey?: PasskeyResponse | undefined;
}

/** For zod's refine: exactly one kind of proof. */
export function oneProof(proof: Proof): boolean {
  return [proof.code, proof.recovery_code, proof.passkey].filter((p) => p !== undefined).length === 1;
}
export const ONE_PROOF_MESSAGE = "send exactly one of code, recovery_code or passkey";

export type ProofVerdict =
  | { ok: true; amr: "otp" | "hwk"; recoveryCode: RecoveryCodeRow | null; claim: BatchItem<"sqlite"> }
  | { ok: false };

/**
 * Checks a proof against the user's factors. `passkeyChallenge` is the challenge a passkey
 * assertion must answer here (null where none was issued: a passkey is then refused).
 */
export async function checkSecondFactor(
  deps: Pick<Deps, "db" | "mfaKey" | "tokenKey" | "config">,
  userId: string,
  factors: Factors,
  proof: Proof,
  passkeyChallenge: string | null,
  now: number,
): Promise<ProofVerdict> {
  const { db } = deps;
  if (proof.code !== undefined) {
    if (!factors.totp) return { ok: false };
    const step = await acceptableTotpStep(deps, factors.totp, proof.code, now);
    return step === null ? { ok: false } : { ok: true, amr: "otp", recoveryCode: null, claim: claimTotpStep(db, factors.totp, step, now) };
  }
  if (proof.recovery_code !== undefined) {
    const row = await findRecoveryCode(deps, userId, proof.recovery_code, factors.recoveryCodes);
    return row === null ? { ok: false } : { ok: true, amr: "otp", recoveryCode: row, claim: claimRecoveryCode(db, row.id, now) };
  }
  if (proof.passkey !== undefined) {
    const rp = relyingParty(deps.config);
    const row = factors.passkeys.find((p) => p.credentialId === proof.passkey!.id);
    if (!rp || !row || passkeyChallenge === null) return { ok: false };
    const verified = await verifyAssertion(rp, proof.passkey, passkeyChallenge, row, false);
    return verified === null ? { ok: false } : { ok: true, amr: "hwk", recoveryCode: null, claim: claimPasskeyUse(db, row, verified.newCounter, now) };
  }
  return { ok: false };
}
