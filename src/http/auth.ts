import type { Context, MiddlewareHandler } from "hono";
import type { AccessClaims } from "../lib/crypto/jwt.ts";
import { AppError } from "../lib/errors.ts";
import type { AppEnv } from "../deps.ts";

/** 401 for a missing, invalid or no longer usable access token. */
export const invalidAccessToken = () =>
  new AppError("invalid_access_token", undefined, { headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } });

// Access tokens are verified from the signature and claims alone: no database read.
export const requireAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const match = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/.exec(c.req.header("authorization") ?? "");
  if (!match) throw invalidAccessToken();
  const { jwt, clock } = c.var.deps;
  const result = await jwt.verify(match[1]!, Math.floor(clock.now() / 1000));
  if (!result.ok) throw invalidAccessToken();
  c.set("auth", result.claims);
  await next();
};

/**
 * The verified claims of a request's Bearer token, or null when it sends none (endpoints that also
 * take an mfa_token instead); a token that is sent but not valid is refused as by requireAuth.
 */
export async function optionalBearer(c: Context<AppEnv>): Promise<AccessClaims | null> {
  const header = c.req.header("authorization");
  if (header === undefined) return null;
  const match = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/.exec(header);
  if (!match) throw invalidAccessToken();
  const { jwt, clock } = c.var.deps;
  const result = await jwt.verify(match[1]!, Math.floor(clock.now() / 1000));
  if (!result.ok) throw invalidAccessToken();
  return result.claims;
}
