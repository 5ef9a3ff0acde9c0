import { and, eq, gt, inArray, isNull } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { emailTokens, users, type EmailTokenPurpose } from "../db/schema.ts";
import { generateToken, hashToken, isWellFormedToken, randomId } from "../lib/crypto/tokens.ts";

// A new token of a purpose makes the user's older ones of that purpose unusable.
export async function createEmailToken(db: Db, userId: string, purpose: EmailTokenPurpose, ttlSeconds: number, now: number) {
  const token = generateToken();
  const writes = [
    db
      .update(emailTokens)
      .set({ usedAt: now })
      .where(and(eq(emailTokens.userId, userId), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt))),
    db.insert(emailTokens).values({
      id: randomId(),
      userId,
      purpose,
      tokenHash: await hashToken(token),
      createdAt: now,
      expiresAt: now + ttlSeconds * 1000,
    }),
  ] as const;
  return { token, expiresAt: now + ttlSeconds * 1000, writes };
}

// Consumes a token with one conditional UPDATE (unused, unexpired, right purpose), so of two
// concurrent requests with the same token exactly one gets its user back; the user is read in the
// same batch (one round trip). Guessing is hopeless: a token is 256 random bits and only its
// SHA-256 is stored.
export async function consumeEmailToken(db: Db, token: string, purpose: EmailTokenPurpose, now: number) {
  if (!isWellFormedToken(token)) return null;
  const tokenHash = await hashToken(token);
  const [consumed, userRows] = await db.batch([
    db
      .update(emailTokens)
      .set({ usedAt: now })
      .where(
        and(
          eq(emailTokens.tokenHash, tokenHash),
          eq(emailTokens.purpose, purpose),
          isNull(emailTokens.usedAt),
          gt(emailTokens.expiresAt, now),
        ),
      )
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
