import { and, eq, gt, inArray, isNull, lt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client.ts";
import { emailTokens, users, type EmailTokenPurpose } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { generateToken, hashToken, isWellFormedToken, randomId } from "../lib/crypto/tokens.ts";

/** Wrong proofs or codes a mailed token or code survives; the next one spends it. */
export const MAX_TOKEN_ATTEMPTS = 5;

export type TokenOwner = { userId: string; email?: undefined } | { email: string; userId?: undefined };

/**
 * A new single-use token for a mail. A user's new token of a purpose makes their older ones
 * unusable; confirmation tokens (owned by an address, before any user exists) do not void each
 * other, so a registration made later cannot spoil the link of one made earlier.
 */
export async function createEmailToken(deps: Deps, owner: TokenOwner, purpose: EmailTokenPurpose, ttlSeconds: number, now: number) {
  const { db } = deps;
  const token = generateToken();
  const expiresAt = now + ttlSeconds * 1000;
  const insert = db.insert(emailTokens).values({
    id: randomId(),
    userId: owner.userId ?? null,
    email: owner.email ?? null,
    purpose,
    tokenHash: await hashToken(deps.tokenKey, token),
    createdAt: now,
    expiresAt,
  });
  const writes: [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]] =
    owner.userId === undefined ? [insert] : [voidUserTokens(db, owner.userId, purpose, now), insert];
  return { token, expiresAt, writes };
}

export function voidUserTokens(db: Db, userId: string, purpose: EmailTokenPurpose, now: number) {
  return db
    .update(emailTokens)
    .set({ usedAt: now })
    .where(and(eq(emailTokens.userId, userId), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt)));
}

/** A token hash's row while it is live: unused, unexpired, not worn out by wrong attempts. */
function isLive(tokenHash: string, purpose: EmailTokenPurpose, now: number) {
  return and(
    eq(emailTokens.tokenHash, tokenHash),
    eq(emailTokens.purpose, purpose),
    isNull(emailTokens.usedAt),
    gt(emailTokens.expiresAt, now),
    lt(emailTokens.failedAttempts, MAX_TOKEN_ATTEMPTS),
  );
}

export function readLiveToken(db: Db, tokenHash: string, purpose: EmailTokenPurpose, now: number) {
  return db
    .select()
    .from(emailTokens)
    .where(isLive(tokenHash, purpose, now))
    .limit(1);
}

/**
 * Spends a live token with one conditional UPDATE, so of two concurrent requests with the same
 * token exactly one gets a row back.
 */
export function spendToken(db: Db, tokenId: string, now: number) {
  return db
    .update(emailTokens)
    .set({ usedAt: now })
    .where(and(eq(emailTokens.id, tokenId), isNull(emailTokens.usedAt)))
    .returning({ id: emailTokens.id });
}

/** One wrong proof or code against a token; the last allowed one spends it. */
export function countWrongAttempt(db: Db, tokenId: string, now: number) {
  return db
    .update(emailTokens)
    .set({
      failedAttempts: sql`${emailTokens.failedAttempts} + 1`,
      usedAt: sql`case when ${emailTokens.failedAttempts} + 1 >= ${MAX_TOKEN_ATTEMPTS} then ${now} else ${emailTokens.usedAt} end`,
    })
    .where(and(eq(emailTokens.id, tokenId), isNull(emailTokens.usedAt)));
}

/**
 * Consumes a user's token (reset) and reads its user in one round trip: one conditional UPDATE, so
 * of two concurrent requests with the same token exactly one gets the user back.
 */
export async function consumeUserToken(deps: Deps, token: string, purpose: EmailTokenPurpose, now: number) {
  if (!isWellFormedToken(token)) return null;
  const { db } = deps;
  const tokenHash = await hashToken(deps.tokenKey, token);
  const [consumed, userRows] = await db.batch([
    db
      .update(emailTokens)
      .set({ usedAt: now })
      .where(isLive(tokenHash, purpose, now))
      .returning({ userId: emailTokens.userId }),
    db
      .select()
      .from(users)
      .where(inArray(users.id, db.select({ id: emailTokens.userId }).from(emailTokens).where(eq(emailTokens.tokenHash, tokenHash))))
      .limit(1),
  ]);
  const user = userRows[0];
  return consumed.length > 0 && user ? { user, tokenHash } : null;
}
