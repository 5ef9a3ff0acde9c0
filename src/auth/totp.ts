import { and, eq, isNull, lt } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { totpFactors } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { seal, unseal } from "../lib/crypto/seal.ts";
import { matchTotp } from "../lib/crypto/totp.ts";
import type { TotpRow } from "./factors.ts";

// A TOTP secret is sealed (AES-GCM, key derived from a Worker secret) to its row and its user: a
// copy of the database alone does not reveal it, and a sealed secret copied into another row or
// another user's row does not open.
const context = (row: Pick<TotpRow, "id" | "userId">) => `totp\n${row.id}\n${row.userId}`;

export function sealTotpSecret(deps: Pick<Deps, "mfaKey">, row: Pick<TotpRow, "id" | "userId">, secret: string): Promise<string> {
  return seal(deps.mfaKey, secret, context(row));
}

export function openTotpSecret(deps: Pick<Deps, "mfaKey">, row: Pick<TotpRow, "id" | "userId" | "secret">): Promise<string> {
  return unseal(deps.mfaKey, row.secret, context(row));
}

/** The step of a right code this factor has not accepted yet, or null (wrong, or replayed). */
export async function acceptableTotpStep(deps: Pick<Deps, "mfaKey">, row: TotpRow, code: string, now: number): Promise<number | null> {
  const step = matchTotp(await openTotpSecret(deps, row), code, now);
  return step !== null && step > row.lastUsedStep ? step : null;
}

/**
 * Records `step` as used, only if no later-or-equal step was recorded meanwhile: of two requests
 * with the same code exactly one gets the row back (`pending` activates the factor too).
 */
export function claimTotpStep(db: Db, row: Pick<TotpRow, "id">, step: number, now: number, pending = false) {
  return db
    .update(totpFactors)
    .set({ lastUsedStep: step, lastUsedAt: now, ...(pending ? { activatedAt: now } : {}) })
    .where(and(eq(totpFactors.id, row.id), lt(totpFactors.lastUsedStep, step), pending ? isNull(totpFactors.activatedAt) : undefined))
    .returning({ id: totpFactors.id });
}
