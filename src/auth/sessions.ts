import { and, eq, exists, gt, inArray, isNull, sql, type SQL } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { refreshTokens, sessions, users } from "../db/schema.ts";
import type { Deps, RequestInfo } from "../deps.ts";
import { encodeBase64Url, encodeUtf8 } from "../lib/crypto/encoding.ts";
import { generateToken, hashToken, randomId } from "../lib/crypto/tokens.ts";

export interface SessionUser {
  id: string;
  email: string;
  roles: string[];
}

/** How a session was opened (RFC 8176), carried by its access tokens as `amr`. */
export type Amr = Array<"pwd" | "otp" | "hwk">;
export const PASSWORD_ONLY: Amr = ["pwd"];

export interface SessionJson {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
}

/** When a session's refresh token expires: a fresh lifetime, but never past the session's absolute age. */
export function refreshExpiry(config: Pick<Config, "refreshTokenTtl" | "sessionMaxAge">, sessionCreatedAt: number, now: number): number {
  return Math.min(now + config.refreshTokenTtl * 1000, sessionCreatedAt + config.sessionMaxAge * 1000);
}

async function signSession(deps: Deps, user: SessionUser, session: { id: string; amr: string[] }, refreshToken: string, refreshExpiresAt: number, now: number): Promise<SessionJson> {
  const access = await deps.jwt.sign({ sub: user.id, sid: session.id, email: user.email, roles: user.roles, amr: session.amr }, Math.floor(now / 1000));
  return {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: access.expiresIn,
    refresh_token: refreshToken,
    refresh_expires_in: Math.max(0, Math.floor((refreshExpiresAt - now) / 1000)),
  };
}

// Prepares a new session; the caller puts `writes` into its one write batch.
export async function openSession(deps: Deps, user: SessionUser, client: RequestInfo, now: number, amr: Amr) {
  const { db, config } = deps;
  const sessionId = randomId();
  const refreshToken = generateToken();
  const expiresAt = refreshExpiry(config, now, now);
  const [body, tokenHash] = await Promise.all([
    signSession(deps, user, { id: sessionId, amr }, refreshToken, expiresAt, now),
    hashToken(await deps.tokenKey(), refreshToken),
  ]);
  const writes = [
    db.insert(sessions).values({ id: sessionId, userId: user.id, createdAt: now, expiresAt, ip: client.ip, userAgent: client.userAgent, amr, lastUsedAt: now }),
    db.insert(refreshTokens).values({ id: randomId(), sessionId, userId: user.id, tokenHash, createdAt: now, expiresAt }),
  ] as const;
  return { sessionId, amr, body, writes };
}

// Rotation in one round trip. The presented token is consumed only while it, its session and its
// user are live, and is marked with its successor's id; the successor is inserted from that mark,
// so it exists exactly when this request consumed the token. A concurrent request with the same
// token finds no unused row and inserts nothing. The last statement reads what the token belongs
// to either way, for the answer or for reuse detection. No refresh moves a session's end past its
// creation plus SESSION_MAX_AGE.
/**
 * A rotated refresh token presented again within this many seconds gets the same successor again
 * (a retry after a lost response, or two tabs refreshing at once), never a second one; later it
 * counts as reuse and ends the session.
 */
export const REFRESH_RETRY_GRACE_SECONDS = 10;

/**
 * The successor of a refresh token is derived from it under the token key, not drawn at random, so
 * a retry within the grace can be answered with the same successor although only hashes are stored.
 */
export async function successorOf(deps: Pick<Deps, "tokenKey">, token: string): Promise<string> {
  return encodeBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", await deps.tokenKey(), encodeUtf8(`refresh successor\u0000${token}`))));
}

export async function rotateRefreshToken(deps: Deps, token: string, now: number) {
  const { db, config } = deps;
  const tokenHash = await hashToken(await deps.tokenKey(), token);
  const successorId = randomId();
  const successorToken = await successorOf(deps, token);
  const successorHash = await hashToken(await deps.tokenKey(), successorToken);
  const maxAgeMs = config.sessionMaxAge * 1000;
  const capped = (createdAt: unknown) => sql<number>`min(${now + config.refreshTokenTtl * 1000}, ${createdAt} + ${maxAgeMs})`;
  // Correlated with the token's row, so it looks up that one session: as `session_id IN (live
  // sessions)` SQLite built the list of every live session first, a scan of the whole table.
  const sessionIsLive = exists(
    db
      .select({ id: sessions.id })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.id, refreshTokens.sessionId), isNull(sessions.revokedAt), isNull(users.disabledAt), gt(sessions.createdAt, now - maxAgeMs))),
  );
  const rotated = db.select({ id: refreshTokens.sessionId }).from(refreshTokens).where(eq(refreshTokens.replacedBy, successorId));
  const statements = [
    db
      .update(refreshTokens)
      .set({ usedAt: now, replacedBy: successorId })
      .where(
        and(
          eq(refreshTokens.tokenHash, tokenHash),
          isNull(refreshTokens.usedAt),
          gt(refreshTokens.expiresAt, now),
          sessionIsLive,
        ),
      )
      .returning({ sessionId: refreshTokens.sessionId }),
    db.insert(refreshTokens).select(
      db
        .select({
          id: sql<string>`${successorId}`.as("id"),
          sessionId: refreshTokens.sessionId,
          userId: refreshTokens.userId,
          tokenHash: sql<string>`${successorHash}`.as("token_hash"),
          createdAt: sql<number>`${now}`.as("created_at"),
          expiresAt: capped(sql`(select ${sessions.createdAt} from ${sessions} where ${sessions.id} = ${refreshTokens.sessionId})`).as("expires_at"),
          usedAt: sql<null>`null`.as("used_at"),
          replacedBy: sql<null>`null`.as("replaced_by"),
        })
        .from(refreshTokens)
        .where(eq(refreshTokens.replacedBy, successorId)),
    ),
    // A refresh is what "last used" means: the access token alone is checked without the database.
    db.update(sessions).set({ expiresAt: capped(sessions.createdAt), lastUsedAt: now }).where(inArray(sessions.id, rotated)),
    db
      .select({ token: refreshTokens, session: sessions, user: users })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(eq(refreshTokens.tokenHash, tokenHash))
      .limit(1),
    // The successor the presented token was already rotated into, if any (for the retry grace).
    db
      .select({ usedAt: refreshTokens.usedAt, expiresAt: refreshTokens.expiresAt })
      .from(refreshTokens)
      .where(inArray(refreshTokens.id, db.select({ id: refreshTokens.replacedBy }).from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash))))
      .limit(1),
  ] as const;
  /** The answer for a rotation that happened: the successor and a new access token. */
  const answer = (user: SessionUser, session: { id: string; createdAt: number; amr: string[] }) =>
    signSession(deps, user, session, successorToken, refreshExpiry(config, session.createdAt, now), now);
  return { statements, answer };
}

/** Ends one session; `onlyIf` adds a condition (e.g. that the caller's own session is live). */
export function revokeSession(db: Db, sessionId: string, reason: string, now: number, onlyIf?: SQL) {
  return db
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt), onlyIf));
}

export function revokeUserSessions(db: Db, userId: string, reason: string, now: number, onlyIf?: SQL) {
  return db
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), onlyIf));
}

/**
 * The session an access token names, if it is still live (not revoked, not expired, user not
 * disabled). Endpoints that read the database anyway check it, so a revoked session stops there at
 * once, not only when its access token expires.
 */
export function liveSession(db: Db, sessionId: string, userId: string, now: number) {
  return db
    .select({ id: sessions.id })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.id, sessionId),
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
        isNull(users.disabledAt),
      ),
    );
}
