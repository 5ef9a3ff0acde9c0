import { and, desc, eq, gt, inArray, isNotNull, isNull, lt, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client.ts";
import { emailTokens, users, type EmailTokenPurpose } from "../db/schema.ts";
import type { Deps, RequestInfo } from "../deps.ts";
import { AppError } from "../lib/errors.ts";
import { recordAudit } from "./audit.ts";
import { codeGuard } from "../limits/code-guard.ts";
import { generateCode, generateToken, hashToken, isWellFormedToken, randomId } from "../lib/crypto/tokens.ts";

/** Wrong proofs (or unlock codes) a mailed token survives; the next one spends it. */
export const MAX_TOKEN_ATTEMPTS = 5;
/** Wrong tries a mailed code survives; the next one voids the code (its link still works). */
export const MAX_CODE_ATTEMPTS = 5;

/**
 * Who a token is for. `email` is the address the mail goes to; `userId` is null only for
 * confirmation tokens (no user exists yet). `sessionId`: the session that asked (email change).
 */
export interface TokenOwner {
  userId: string | null;
  email: string;
  sessionId?: string;
}

/** What a person brings back from a mail: its link's token, or its address and 6-digit code. */
export type MailedCredential = { token: string } | { email: string; code: string };

// A user's new token of these purposes does not void their older ones: an undo link mailed to an
// old address stays usable when another change is asked for (an attacker asking twice must not
// take the owner's first link away).
const OLDER_STAY_USABLE: ReadonlySet<EmailTokenPurpose> = new Set(["revert_email"]);

/**
 * The stored form of a mailed code: an HMAC bound to the purpose and the address it was mailed to,
 * so one conditional UPDATE can find and spend the row, as with tokens, and a code is worth
 * nothing for another address or purpose. (Unlock codes are bound to their row instead: login reads
 * the row with the account anyway, and they have no link.)
 */
export async function hashMailedCode(deps: Pick<Deps, "tokenKey">, purpose: EmailTokenPurpose, email: string, code: string): Promise<string> {
  return hashToken(await deps.tokenKey(), `code\n${purpose}\n${email}\n${code}`);
}

/**
 * A new single-use token for a mail, with a 6-digit code beside its link when `withCode`: one row,
 * so using either spends both. A user's new token of a purpose makes their older ones unusable;
 * confirmation tokens (owned by an address, before any user exists) do not void each other, so a
 * registration made later cannot spoil the link of one made earlier.
 */
export async function createEmailToken(
  deps: Deps,
  owner: TokenOwner,
  purpose: EmailTokenPurpose,
  ttlSeconds: number,
  now: number,
  options: { withCode: boolean } = { withCode: true },
) {
  const { db } = deps;
  const token = generateToken();
  const code = options.withCode ? generateCode() : null;
  const expiresAt = now + ttlSeconds * 1000;
  const insert = db.insert(emailTokens).values({
    id: randomId(),
    userId: owner.userId,
    email: owner.email,
    purpose,
    tokenHash: await hashToken(await deps.tokenKey(), token),
    codeHash: code === null ? null : await hashMailedCode(deps, purpose, owner.email, code),
    sessionId: owner.sessionId ?? null,
    createdAt: now,
    expiresAt,
  });
  const voidsOlder = owner.userId !== null && !OLDER_STAY_USABLE.has(purpose);
  const writes: [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]] = voidsOlder ? [voidUserTokens(db, owner.userId!, purpose, now), insert] : [insert];
  return { token, code, expiresAt, writes };
}

export function voidUserTokens(db: Db, userId: string, purpose: EmailTokenPurpose, now: number) {
  return db
    .update(emailTokens)
    .set({ usedAt: now })
    .where(and(eq(emailTokens.userId, userId), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt)));
}

/** A token of this purpose that is unused, unexpired and not worn out by wrong proofs. */
function isLive(purpose: EmailTokenPurpose, now: number) {
  return and(
    eq(emailTokens.purpose, purpose),
    isNull(emailTokens.usedAt),
    gt(emailTokens.expiresAt, now),
    lt(emailTokens.failedAttempts, MAX_TOKEN_ATTEMPTS),
  );
}

/** The live (unused, unexpired, not worn out by wrong attempts) row of a token hash. */
export function readLiveToken(db: Db, tokenHash: string, purpose: EmailTokenPurpose, now: number) {
  return db
    .select()
    .from(emailTokens)
    .where(and(eq(emailTokens.tokenHash, tokenHash), isLive(purpose, now)))
    .limit(1);
}

/**
 * Where a credential points, as conditions for the caller's statements. `live` picks the live row
 * it opens (for a code: the newest live row of the address whose code matches, while the address
 * may still try codes today); `spent` finds that row again after this request spent it at `now`.
 * Null for a token that is not even shaped like one.
 */
export async function locateCredential(deps: Deps, credential: MailedCredential, purpose: EmailTokenPurpose, now: number) {
  const { db } = deps;
  if ("token" in credential) {
    if (!isWellFormedToken(credential.token)) return null;
    const tokenHash = await hashToken(await deps.tokenKey(), credential.token);
    const byHash = eq(emailTokens.tokenHash, tokenHash);
    return { live: and(byHash, isLive(purpose, now))!, spent: byHash, email: null };
  }
  const codeHash = await hashMailedCode(deps, purpose, credential.email, credential.code);
  const guard = await codeGuard(db, credential.email);
  const matching = and(eq(emailTokens.email, credential.email), isNotNull(emailTokens.codeHash), eq(emailTokens.codeHash, codeHash));
  const newestLive = db
    .select({ id: emailTokens.id })
    .from(emailTokens)
    .where(and(matching, isLive(purpose, now), guard.open(now)))
    .orderBy(desc(emailTokens.createdAt))
    .limit(1);
  return {
    live: and(eq(emailTokens.id, newestLive), isLive(purpose, now))!,
    spent: and(matching, eq(emailTokens.purpose, purpose), eq(emailTokens.usedAt, now))!,
    email: credential.email,
  };
}

/**
 * The writes of a wrong code for an address: the address's daily count, and one more wrong try on
 * each of its live codes of this purpose (the last allowed one voids the code). The same
 * statements whether or not the address has anything live, so the answer and its cost match.
 */
export async function wrongCodeWrites(deps: Deps, purpose: EmailTokenPurpose, email: string, now: number) {
  const { db } = deps;
  const guard = await codeGuard(db, email);
  return [
    guard.failed(now),
    db
      .update(emailTokens)
      .set({
        codeFailedAttempts: sql`${emailTokens.codeFailedAttempts} + 1`,
        codeHash: sql`case when ${emailTokens.codeFailedAttempts} + 1 >= ${MAX_CODE_ATTEMPTS} then null else ${emailTokens.codeHash} end`,
      })
      .where(and(eq(emailTokens.email, email), isNotNull(emailTokens.codeHash), isLive(purpose, now))),
  ] as const;
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

/** One wrong proof against a token; the last allowed one spends it. */
export function countWrongAttempt(db: Db, tokenId: string, now: number) {
  return db
    .update(emailTokens)
    .set({
      failedAttempts: sql`${emailTokens.failedAttempts} + 1`,
      usedAt: sql`case when ${emailTokens.failedAttempts} + 1 >= ${MAX_TOKEN_ATTEMPTS} then ${now} else ${emailTokens.usedAt} end`,
    })
    .where(and(eq(emailTokens.id, tokenId), isNull(emailTokens.usedAt)));
}

export type EmailTokenRow = typeof emailTokens.$inferSelect;
export type ConsumedCredential = { user: typeof users.$inferSelect; token: EmailTokenRow };

/**
 * Consumes a user's token (reset, email change and its undo) by its link or its code, and reads its
 * user, in one round trip: one conditional UPDATE, so of two concurrent requests with the same
 * credential exactly one gets the user back. Null when nothing was consumed: answer with
 * refuseCredential.
 */
export async function consumeUserCredential(deps: Deps, credential: MailedCredential, purpose: EmailTokenPurpose, now: number): Promise<ConsumedCredential | null> {
  const { db } = deps;
  const where = await locateCredential(deps, credential, purpose, now);
  if (!where) return null;
  const [consumed, rows] = await db.batch([
    db.update(emailTokens).set({ usedAt: now }).where(where.live).returning({ id: emailTokens.id }),
    db
      .select({ user: users, token: emailTokens })
      .from(emailTokens)
      .innerJoin(users, eq(users.id, emailTokens.userId))
      .where(where.spent)
      .orderBy(desc(emailTokens.createdAt))
      .limit(1),
  ]);
  const row = rows[0];
  return consumed.length > 0 && row && row.token.id === consumed[0]!.id ? row : null;
}

/**
 * The answer to a link or code that opened nothing. A wrong code is counted first (one round trip,
 * the same statements whether or not the address is known), so 5 of them void the code and the
 * address's daily budget runs down; the answer is the same for every address.
 */
export async function refuseCredential(deps: Deps, client: RequestInfo, credential: MailedCredential, purpose: EmailTokenPurpose, now: number): Promise<AppError> {
  if ("token" in credential) return new AppError("invalid_token");
  await deps.db.batch([...(await wrongCodeWrites(deps, purpose, credential.email, now)), recordAudit(deps.db, "code_failed", null, client, now)]);
  return new AppError("invalid_code");
}

/** Gives a consumed token back (the request was refused for a reason that is not the token's). */
export function unspendToken(db: Db, tokenId: string, now: number) {
  return db
    .update(emailTokens)
    .set({ usedAt: null })
    .where(and(eq(emailTokens.id, tokenId), eq(emailTokens.usedAt, now)));
}

/** A condition for statements about a user's tokens of some purposes that are still unused. */
export function unusedTokensOf(userId: string, purposes: EmailTokenPurpose[]): SQL {
  return and(eq(emailTokens.userId, userId), inArray(emailTokens.purpose, purposes), isNull(emailTokens.usedAt))!;
}
