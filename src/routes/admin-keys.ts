import { Hono } from "hono";
import { and, desc, eq, isNull } from "drizzle-orm";
import * as z from "zod";
import { API_SCOPES, apiKeyEnv, insertApiKey, prepareApiKey, toApiKeyJson } from "../auth/api-keys.ts";
import { recordAudit } from "../auth/audit.ts";
import { apiKeys } from "../db/schema.ts";
import type { AppEnv } from "../deps.ts";
import { needScope } from "../http/api-key.ts";
import { validateJson } from "../http/validate.ts";
import { AppError } from "../lib/errors.ts";

const DAY_MS = 24 * 3600_000;

export const NewKey = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(API_SCOPES)).min(1).max(API_SCOPES.length),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
});

// POST|GET /admin/v1/keys, DELETE /admin/v1/keys/:id — all need keys:write
export const adminKeyRoutes = new Hono<AppEnv>()
  .use(needScope("keys:write"))
  .post("/", validateJson(NewKey), async (c) => {
    const { db, clock, config } = c.var.deps;
    const tokenKey = await c.var.deps.tokenKey();
    const body = c.req.valid("json");
    // A key cannot hand out more than it holds.
    const beyond = body.scopes.filter((scope) => !c.var.apiKey.scopes.includes(scope));
    if (beyond.length > 0) throw new AppError("insufficient_scope", `The API key cannot grant scopes it lacks: ${beyond.join(", ")}.`);
    const now = clock.now();
    const actor = `key:${c.var.apiKey.id}`;
    const { key, row } = await prepareApiKey(
      tokenKey,
      { name: body.name, scopes: body.scopes, env: apiKeyEnv(config.environment), createdBy: actor, expiresAt: body.expires_in_days ? now + body.expires_in_days * DAY_MS : null },
      now,
    );
    await db.batch([insertApiKey(db, row), recordAudit(db, "admin_key_created", null, c.var.client, now, actor)]);
    // The key itself is in this answer only.
    return c.json({ key, api_key: toApiKeyJson(row) }, 201);
  })
  .get("/", async (c) => {
    const rows = await c.var.deps.db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));
    return c.json({ api_keys: rows.map(toApiKeyJson) });
  })
  .delete("/:id", async (c) => {
    const { db, clock } = c.var.deps;
    const now = clock.now();
    const [revoked] = await db.batch([
      db
        .update(apiKeys)
        .set({ revokedAt: now })
        .where(and(eq(apiKeys.id, c.req.param("id")), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id }),
      recordAudit(db, "admin_key_revoked", null, c.var.client, now, `key:${c.var.apiKey.id}`),
    ]);
    if (revoked.length === 0) throw new AppError("not_found", "No live API key with that id.");
    return c.body(null, 204);
  });
