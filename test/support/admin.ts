import { prepareApiKey, insertApiKey } from "../../src/auth/api-keys.ts";
import type { ApiScope } from "../../src/db/schema.ts";
import type { TestService } from "./service.ts";

/** An admin API key made the way `npm run admin -- keys create` makes one, and a caller using it. */
export async function adminKey(t: TestService, scopes: ApiScope[], opts: { expiresAt?: number | null } = {}) {
  const { key, row } = await prepareApiKey(
    t.deps.tokenKey,
    { name: "test key", scopes, env: "test", createdBy: "cli", expiresAt: opts.expiresAt ?? null },
    t.deps.clock.now(),
  );
  await t.deps.db.batch([insertApiKey(t.deps.db, row)]);
  const call = (method: string, path: string, json?: unknown, key_ = key) =>
    t.request(`/admin/v1${path}`, { method, json, headers: { authorization: `Bearer ${key_}` } });
  return { key, id: row.id, call };
}
