import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../lib/errors.ts";
import type { AppEnv } from "../deps.ts";

export const MAX_BODY_BYTES = 16 * 1024;

const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new AppError("payload_too_large");
  },
});

// JSON only, bounded, well-formed: checked once here so handlers and validators see a parsed body.
export const requireJsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method !== "POST" && c.req.method !== "PATCH" && c.req.method !== "DELETE") return next();
  const type = c.req.header("content-type") ?? "";
  // No body at all reads as {}: the route's schema then says what is missing.
  if (!type && (c.req.raw.body === null || c.req.header("content-length") === "0")) return next();
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new AppError("unsupported_media_type");
  return limitBody(c, async () => {
    try {
      await c.req.json();
    } catch {
      throw new AppError("malformed_json");
    }
    await next();
  });
};
