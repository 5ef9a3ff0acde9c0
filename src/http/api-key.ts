import type { MiddlewareHandler } from "hono";
import { eq } from "drizzle-orm";
import { API_KEY_PATTERN, findApiKey } from "../auth/api-keys.ts";
import { apiKeys, type ApiScope } from "../db/schema.ts";
import type { AppEnv } from "../deps.ts";
import { timingSafeEqual } from "../lib/crypto/encoding.ts";
import { hashToken } from "../lib/crypto/tokens.ts";
import { AppError } from "../lib/errors.ts";
import { logEvent } from "../lib/log.ts";
import { rateLimited } from "../limits/counters.ts";

/** The period of ADMIN_RATE_LIMITER in wrangler.toml. */
const ADMIN_BUDGET_PERIOD_SECONDS = 60;

const invalidApiKey = () => new AppError("invalid_api_key", undefined, { headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } });

// Every /admin/v1 request: an admin API key in the Authorization header (never the query string,
// where it would end up in logs), live (not revoked, not expired), within its own request budget. A
// user's access token is no admin key and never gets past here.
export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = /^Bearer (ea_\S+)$/.exec(c.req.header("authorization") ?? "")?.[1];
  if (!key || !API_KEY_PATTERN.test(key)) throw invalidApiKey();
  const { db, tokenKey, clock, adminLimiter } = c.var.deps;
  const now = clock.now();
  const row = await findApiKey(db, tokenKey, key);
  // Found by its HMAC; compared once more in constant time so the lookup alone never decides.
  const live = row && timingSafeEqual(row.keyHash, await hashToken(tokenKey, key)) && row.revokedAt === null && (row.expiresAt === null || row.expiresAt > now);
  if (!live) throw invalidApiKey();
  if (!(await adminLimiter.limit({ key: row.id })).success) {
    logEvent("rate_limited", { requestId: c.var.requestId, scope: "api_key", keyId: row.id });
    throw rateLimited(ADMIN_BUDGET_PERIOD_SECONDS * 1000);
  }
  c.set("apiKey", row);
  c.var.defer(async () => {
    await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, row.id));
  });
  await next();
};

/** 403 insufficient_scope, naming the scope, unless the request's key holds it. */
export function needScope(scope: ApiScope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!c.var.apiKey.scopes.includes(scope)) throw new AppError("insufficient_scope", `The API key lacks the ${scope} scope.`);
    await next();
  };
}
