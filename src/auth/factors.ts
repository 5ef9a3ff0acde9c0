import { and, eq, inArray, isNotNull, isNull, type SQL, type SQLWrapper } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client.ts";
import { passkeys, recoveryCodes, totpFactors } from "../db/schema.ts";
import type { Config } from "../config.ts";

export type TotpRow = typeof totpFactors.$inferSelect;
export type PasskeyRow = typeof passkeys.$inferSelect;
export type RecoveryCodeRow = typeof recoveryCodes.$inferSelect;

/** What a user can prove a second time with, read in the caller's batch. */
export interface Factors {
  /** The activated authenticator app, if any. */
  totp: TotpRow | undefined;
  passkeys: PasskeyRow[];
  /** Unused recovery codes. */
  recoveryCodes: RecoveryCodeRow[];
}

export type SecondFactorMethod = "totp" | "passkey" | "recovery_code";

/**
 * Three reads for a batch: the activated TOTP factor, the passkeys and the unused recovery codes of
 * a user, named by id or by a subquery (login knows only the address).
 */
export function readFactors(db: Db, owner: string | SQLWrapper) {
  const of = (column: SQLiteColumn) => (typeof owner === "string" ? eq(column, owner) : inArray(column, owner as SQL));
  return [
    db.select().from(totpFactors).where(and(of(totpFactors.userId), isNotNull(totpFactors.activatedAt))).limit(1),
    db.select().from(passkeys).where(of(passkeys.userId)).orderBy(passkeys.createdAt),
    db.select().from(recoveryCodes).where(and(of(recoveryCodes.userId), isNull(recoveryCodes.usedAt))),
  ] as const;
}

export function toFactors([totp, keys, codes]: [TotpRow[], PasskeyRow[], RecoveryCodeRow[]]): Factors {
  return { totp: totp[0], passkeys: keys, recoveryCodes: codes };
}

/** Whether the user has a second factor (recovery codes back one up; alone they are not one). */
export function hasSecondFactor(factors: Factors): boolean {
  return factors.totp !== undefined || factors.passkeys.length > 0;
}

/** The ways this user can finish a login, in the order a client should offer them. */
export function methodsOf(factors: Factors, config: Pick<Config, "webauthnRpId">): SecondFactorMethod[] {
  const methods: SecondFactorMethod[] = [];
  if (factors.passkeys.length > 0 && config.webauthnRpId !== undefined) methods.push("passkey");
  if (factors.totp) methods.push("totp");
  if (factors.recoveryCodes.length > 0) methods.push("recovery_code");
  return methods;
}

/** The methods a user without a factor may enrol (MFA_REQUIRED). */
export function enrollableMethods(config: Pick<Config, "webauthnRpId">): Array<"totp" | "passkey"> {
  return config.webauthnRpId === undefined ? ["totp"] : ["totp", "passkey"];
}

/** GET /v1/mfa: the factors as the owner sees them (never a secret or a key). */
export function toFactorsJson(factors: Factors) {
  return {
    factors: [
      ...(factors.totp
        ? [{ id: factors.totp.id, type: "totp" as const, created_at: iso(factors.totp.activatedAt ?? factors.totp.createdAt), last_used_at: isoOrNull(factors.totp.lastUsedAt) }]
        : []),
      ...factors.passkeys.map((p) => ({
        id: p.id,
        type: "passkey" as const,
        name: p.name,
        backed_up: p.backedUp,
        created_at: iso(p.createdAt),
        last_used_at: isoOrNull(p.lastUsedAt),
      })),
    ],
    recovery_codes_left: factors.recoveryCodes.length,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
