import { Hono } from "hono";
import type { AppEnv } from "../deps.ts";

// GET /.well-known/jwks.json
export const wellKnownRoutes = new Hono<AppEnv>()
  .get("/jwks.json", (c) => {
    c.header("Cache-Control", "public, max-age=300");
    return c.json(c.var.deps.jwt.jwks());
  });
