import { and, eq, gt, inArray, isNull, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { mfaTokens, type MfaTokenPurpose } from "../db/schema.ts";
import type { Deps, RequestInfo } from "../deps.ts";
import { ipCounterKey } from "../limits/ip-budget.ts";
import { encodeBase64Url, encodeUtf8, sha256Hex } from "../lib/crypto/encoding.ts";
import { generateToken, hashToken, isWellFormedToken, randomId } from "../lib/crypto/tokens.ts";

// The tokens of the second-factor flows: the mfa_token handed out after the right password (to
// finish the login with a second factor, or to enrol one under MFA_REQUIRED), and WebAuthn
// challenges. Like every token here: 256 random bits, stored only as an HMAC, short-lived,
// consumed by one conditional UPDATE.

/** How long the step between the password and the second factor may take. */
export const MFA_TOKEN_TTL_SECONDS = 300;
/** Wrong codes one mfa_token survives; the next one spends it (the login guards count them too). */
export const MAX_MFA_ATTEMPTS = 5;

export type MfaTokenRow = typeof mfaTokens.$inferSelect;

/**
 * The client a token was issued to: its network (IPv6 by /64, as the login guard counts it) and
 * its user agent. A token copied to another client is as good as no token.
 */
export function clientBinding(client: RequestInfo): Promise<string> {
  return sha256Hex(`${ipCounterKey(client.ip)}\n${client.userAgent ?? ""}`);
}

/** A new token for `purpose`; `write` goes into the caller's batch. */
export async function createMfaToken(deps: Pick<Deps, "db" | "tokenKey">, owner: string | null, purpose: MfaTokenPurpose, client: RequestInfo, now: number, token = generateToken()) {
  const expiresAt = now + MFA_TOKEN_TTL_SECONDS * 1000;
  const write = deps.db.insert(mfaTokens).values({
    id: randomId(),
    userId: owner,
    purpose,
    tokenHash: await hashToken(deps.tokenKey, token),
    clientHash: await clientBinding(client),
    createdAt: now,
    expiresAt,
  });
  return { token, expiresAt, write };
}

/**
 * Reads for a batch: the live row of a presented token of one of `purposes`, issued to this
 * client, and (as a subquery) its user's id. A malformed token finds nothing at the same cost.
 */
export async function liveMfaToken(deps: Pick<Deps, "db" | "tokenKey">, token: string, purposes: MfaTokenPurpose[], client: RequestInfo, now: number) {
  const { db } = deps;
  // A hash no row has, so a malformed token costs the same query and finds nothing.
  const tokenHash = isWellFormedToken(token) ? await hashToken(deps.tokenKey, token) : "-";
  const live = and(
    eq(mfaTokens.tokenHash, tokenHash),
    inArray(mfaTokens.purpose, purposes),
    eq(mfaTokens.clientHash, await clientBinding(client)),
    isNull(mfaTokens.usedAt),
    gt(mfaTokens.expiresAt, now),
    lt(mfaTokens.failedAttempts, MAX_MFA_ATTEMPTS),
  );
  return {
    row: db.select().from(mfaTokens).where(live).limit(1),
    userId: db.select({ id: mfaTokens.userId }).from(mfaTokens).where(live),
  };
}

/** Spends a token read live: of two concurrent requests exactly one gets the row back. */
export function spendMfaToken(db: Db, id: string, now: number) {
  return db
    .update(mfaTokens)
    .set({ usedAt: now })
    .where(and(eq(mfaTokens.id, id), isNull(mfaTokens.usedAt), gt(mfaTokens.expiresAt, now)))
    .returning({ id: mfaTokens.id });
}

/** One wrong code against a token; the last allowed one spends it. */
export function countWrongMfaAttempt(db: Db, id: string, now: number) {
  return db
    .update(mfaTokens)
    .set({
      failedAttempts: sql`${mfaTokens.failedAttempts} + 1`,
      usedAt: sql`case when ${mfaTokens.failedAttempts} + 1 >= ${MAX_MFA_ATTEMPTS} then ${now} else ${mfaTokens.usedAt} end`,
    })
    .where(and(eq(mfaTokens.id, id), isNull(mfaTokens.usedAt)));
}

/**
 * The WebAuthn challenge that goes with an mfa_token: derived from it under the token key, so the
 * login's one stored hash covers both, and the challenge (which the page sees) reveals nothing of
 * the token.
 */
export async function passkeyChallengeOf(deps: Pick<Deps, "tokenKey">, mfaToken: string): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", deps.tokenKey, encodeUtf8(`webauthn challenge\u0000${mfaToken}`)));
}

/** A WebAuthn challenge of its own (registration, passwordless sign-in, confirming a change): stored like a token. */
export function newChallenge(): { bytes: Uint8Array<ArrayBuffer>; text: string } {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return { bytes, text: encodeBase64Url(bytes) };
}

/**
 * For a batch: spends the live challenge row a ceremony answered, returning it. One conditional
 * UPDATE, so a challenge answers one ceremony. `userId` null means a passwordless sign-in's. (The
 * statement is wrapped in an object: awaiting a drizzle query would run it.)
 */
export async function consumeChallenge(deps: Pick<Deps, "db" | "tokenKey">, challenge: string, purpose: MfaTokenPurpose, userId: string | null, client: RequestInfo, now: number) {
  const tokenHash = await hashToken(deps.tokenKey, challenge);
  const spend = deps.db
    .update(mfaTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(mfaTokens.tokenHash, tokenHash),
        eq(mfaTokens.purpose, purpose),
        userId === null ? isNull(mfaTokens.userId) : eq(mfaTokens.userId, userId),
        eq(mfaTokens.clientHash, await clientBinding(client)),
        isNull(mfaTokens.usedAt),
        gt(mfaTokens.expiresAt, now),
      ),
    )
    .returning();
  return { spend };
}
