import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { refreshTokens, sessions } from "../db/schema.ts";
import type { Deps, RequestInfo } from "../http/context.ts";
import { generateToken, hashToken, randomId } from "../lib/crypto/tokens.ts";

export interface SessionUser {
  id: string;
  email: string;
  roles: string[];
}

export interface SessionJson {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
}

async function issueTokens(deps: Deps, user: SessionUser, sessionId: string, now: number) {
  const refreshToken = generateToken();
  const refreshTtl = deps.config.refreshTokenTtl;
  const [access, refreshHash] = await Promise.all([
    deps.jwt.sign({ sub: user.id, sid: sessionId, email: user.email, roles: user.roles }, Math.floor(now / 1000)),
    hashToken(refreshToken),
  ]);
  const body: SessionJson = {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: access.expiresIn,
    refresh_token: refreshToken,
    refresh_expires_in: refreshTtl,
  };
  const refreshRow = {
    id: randomId(),
    sessionId,
    userId: user.id,
    tokenHash: refreshHash,
    createdAt: now,
    expiresAt: now + refreshTtl * 1000,
  };
  return { body, refreshRow };
}

// Prepares a new session; the caller puts `writes` into its one write batch.
export async function openSession(deps: Deps, user: SessionUser, client: RequestInfo, now: number) {
  const sessionId = randomId();
  const { body, refreshRow } = await issueTokens(deps, user, sessionId, now);
  const { db } = deps;
  const writes = [
    db.insert(sessions).values({
      id: sessionId,
      userId: user.id,
      createdAt: now,
      expiresAt: refreshRow.expiresAt,
      ip: client.ip,
      userAgent: client.userAgent,
    }),
    db.insert(refreshTokens).values(refreshRow),
  ] as const;
  return { sessionId, body, writes };
}

// The successor of a refresh token that was just consumed.
export async function rotateSession(deps: Deps, user: SessionUser, sessionId: string, now: number) {
  const { body, refreshRow } = await issueTokens(deps, user, sessionId, now);
  const writes = [
    deps.db.insert(refreshTokens).values(refreshRow),
    deps.db.update(sessions).set({ expiresAt: refreshRow.expiresAt }).where(eq(sessions.id, sessionId)),
  ] as const;
  return { body, writes };
}

export function revokeSession(db: Db, sessionId: string, reason: string, now: number) {
  return db
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
}

export function revokeUserSessions(db: Db, userId: string, reason: string, now: number) {
  return db
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
}
