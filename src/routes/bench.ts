import { Hono } from "hono";
import { sql } from "drizzle-orm";
import type { AppEnv } from "../deps.ts";

// Mounted only with BENCH_ROUTES=true, which config accepts in development alone (npm run bench).
// /bench/bare is the floor every route pays (entry, middleware, JSON); /bench/hash is one password
// derivation exactly as login pays it, so the bench can say what a login costs beyond the hash;
// /bench/db is one libSQL round trip (select 1), which /health no longer is on every call.
const BENCH_PASSWORD = "bench derivation input";

// GET /bench/plain: mounted by src/app.ts before any middleware, so it is what a bare Hono route
// costs in this Worker; /bench/bare is the same answer behind every middleware of the app.
export const plainBenchRoutes = new Hono<AppEnv>().get("/", (c) => c.json({ ok: true }));

// GET /bench/bare, /bench/hash, /bench/db
export const benchRoutes = new Hono<AppEnv>()
  .get("/bare", (c) => c.json({ ok: true }))
  .get("/hash", async (c) => {
    await c.var.deps.passwords.burn(BENCH_PASSWORD);
    return c.json({ ok: true });
  })
  .get("/db", async (c) => {
    await c.var.deps.db.run(sql`select 1`);
    return c.json({ ok: true });
  });
