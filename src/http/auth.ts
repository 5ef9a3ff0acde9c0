import type { MiddlewareHandler } from "hono";
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
