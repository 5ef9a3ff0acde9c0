import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { recoveryCodes } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { timingSafeEqual } from "../lib/crypto/encoding.ts";
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from "../lib/crypto/recovery-codes.ts";
import { randomId } from "../lib/crypto/tokens.ts";
import type { RecoveryCodeRow } from "./factors.ts";

/** Below this many unused codes, answers that spend one say so. */
export const RECOVERY_CODES_LOW = 3;

/** A fresh set: the user's old codes are deleted in the same batch, so only these work from now on. */
export async function issueRecoveryCodes(deps: Pick<Deps, "db" | "tokenKey">, userId: string, now: number) {
  const codes = generateRecoveryCodes();
  const rows = await Promise.all(
    codes.map(async (code) => ({ id: randomId(), userId, codeHash: await hashRecoveryCode(deps.tokenKey, userId, normalizeRecoveryCode(code)!), createdAt: now })),
  );
  const writes = [deps.db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)), deps.db.insert(recoveryCodes).values(rows)] as const;
  return { codes, writes };
}

/** The unused code row a typed code matches, compared in constant time against each; or null. */
export async function findRecoveryCode(deps: Pick<Deps, "tokenKey">, userId: string, typed: string, rows: RecoveryCodeRow[]) {
  const normalized = normalizeRecoveryCode(typed);
  if (normalized === null) return null;
  const hash = await hashRecoveryCode(deps.tokenKey, userId, normalized);
  let found: RecoveryCodeRow | null = null;
  for (const row of rows) if (timingSafeEqual(hash, row.codeHash) && row.usedAt === null) found = row;
  return found;
}

/** Spends a code: of two requests with the same code exactly one gets the row back. */
export function claimRecoveryCode(db: Db, id: string, now: number) {
  return db
    .update(recoveryCodes)
    .set({ usedAt: now })
    .where(and(eq(recoveryCodes.id, id), isNull(recoveryCodes.usedAt)))
    .returning({ id: recoveryCodes.id });
}
