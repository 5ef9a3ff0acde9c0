import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { apiKeys, type ApiKeyRow, type ApiScope } from "../db/schema.ts";
import { hashToken, randomId } from "../lib/crypto/tokens.ts";

export const API_SCOPES = [
  "users:read",
  "users:write",
  "sessions:write",
  "webhooks:read",
  "webhooks:write",
  "keys:write",
  "audit:read",
] as const satisfies readonly ApiScope[];

export type { ApiKeyRow };

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_CHARS = 43; // 43 × log2(62) ≈ 256 bits
export const API_KEY_PATTERN = /^ea_(live|dev|test)_[0-9A-Za-z]{43}$/;

/** What the key's `<env>` says: which deployment it was made for, so a test key cannot pass for a live one by mistake. */
export function apiKeyEnv(environment: "production" | "development" | "test"): "live" | "dev" | "test" {
  return environment === "production" ? "live" : environment === "development" ? "dev" : "test";
}

// Uniform base62 by rejection: a byte is used only below 248 (4 × 62).
function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** A new key, shown once: only its HMAC (under the token key), a prefix and the last four characters are stored. */
export async function prepareApiKey(
  tokenKey: CryptoKey,
  opts: { name: string; scopes: ApiScope[]; env: "live" | "dev" | "test"; createdBy: string; expiresAt: number | null },
  now: number,
) {
  const random = randomBase62(RANDOM_CHARS);
  const key = `ea_${opts.env}_${random}`;
  const row: ApiKeyRow = {
    id: randomId(),
    name: opts.name,
    prefix: `ea_${opts.env}_${random.slice(0, 4)}`,
    last4: random.slice(-4),
    keyHash: await hashToken(tokenKey, key),
    scopes: [...new Set(opts.scopes)],
    createdAt: now,
    createdBy: opts.createdBy,
    expiresAt: opts.expiresAt,
    lastUsedAt: null,
    revokedAt: null,
  };
  return { key, row };
}

export function insertApiKey(db: Db, row: ApiKeyRow) {
  return db.insert(apiKeys).values(row);
}

/** The row of a presented key, looked up by its HMAC (so the key itself is never compared or stored). */
export async function findApiKey(db: Db, tokenKey: CryptoKey, key: string): Promise<ApiKeyRow | undefined> {
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.keyHash, await hashToken(tokenKey, key))).limit(1);
  return rows[0];
}

/** The public view of a key: never its hash. */
export function toApiKeyJson(row: ApiKeyRow) {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    last4: row.last4,
    scopes: row.scopes,
    created_at: iso(row.createdAt),
    created_by: row.createdBy,
    expires_at: iso(row.expiresAt),
    last_used_at: iso(row.lastUsedAt),
    revoked_at: iso(row.revokedAt),
  };
}
