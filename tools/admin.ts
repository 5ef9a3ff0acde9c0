// `npm run admin -- keys create --name NAME --scopes users:read,users:write [--expires-in-days N]`
// Makes an admin API key directly in the database — the first key has no key to ask with. It works
// against DB_URL (+ DB_AUTH_TOKEN), like `npm run db:migrate`, e.g. Turso; without DB_URL against the
// .data/dev.db that `npm start` uses (also while it runs). The key is stored as an HMAC under a key
// derived from PASSWORD_PEPPER (from the environment, or .dev.vars locally), so this needs the same
// pepper as the Worker. The key is printed once, alone on the last line.
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { API_SCOPES, apiKeyEnv, prepareApiKey } from "../src/auth/api-keys.ts";
import { apiKeys, type ApiScope } from "../src/db/schema.ts";
import { deriveTokenKey } from "../src/lib/crypto/tokens.ts";
import { migrateDatabase } from "./migrate.ts";

const LOCAL_DB = ".data/dev.db";

function devVars(): Record<string, string> {
  if (!existsSync(".dev.vars")) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(".dev.vars", "utf8").split(/\r?\n/)) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*'?(.*?)'?\s*$/.exec(line);
    if (match) vars[match[1]!] = match[2]!;
  }
  return vars;
}

function fail(message: string): never {
  console.error(`admin: ${message}`);
  process.exit(2);
}

async function createKey(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: { name: { type: "string" }, scopes: { type: "string" }, "expires-in-days": { type: "string" } } });
  if (!values.name) fail("--name is required");
  const scopes = (values.scopes ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length > 0) fail(`--scopes takes a comma-separated list of ${API_SCOPES.join(", ")}${unknown.length ? `; unknown: ${unknown.join(", ")}` : ""}`);
  const days = values["expires-in-days"] === undefined ? null : Number(values["expires-in-days"]);
  if (days !== null && (!Number.isInteger(days) || days < 1)) fail("--expires-in-days takes a whole number of days");

  const local = !process.env.DB_URL;
  const vars = local ? devVars() : {};
  const pepper = process.env.PASSWORD_PEPPER ?? vars.PASSWORD_PEPPER;
  if (!pepper) fail(local ? "no PASSWORD_PEPPER: run `npm start` once (it writes .dev.vars) or set it" : "set PASSWORD_PEPPER to the Worker's (the key is stored as an HMAC under it)");
  const environment = (process.env.ENVIRONMENT ?? vars.ENVIRONMENT ?? (local ? "development" : "production")) as "production" | "development" | "test";
  const url = process.env.DB_URL ?? `file:${LOCAL_DB}`;
  if (local) await migrateDatabase(url);

  const client = createClient({ url, authToken: process.env.DB_AUTH_TOKEN || undefined });
  try {
    // npm start's server may hold the file for a moment: wait for it rather than fail.
    if (local) await client.execute("PRAGMA busy_timeout = 5000");
    const now = Date.now();
    const { key, row } = await prepareApiKey(
      await deriveTokenKey(pepper),
      { name: values.name, scopes: scopes as ApiScope[], env: apiKeyEnv(environment), createdBy: "cli", expiresAt: days === null ? null : now + days * 24 * 3600_000 },
      now,
    );
    await drizzle(client).insert(apiKeys).values(row);
    console.log(`created API key ${row.id} "${row.name}" (${row.scopes.join(", ")}) in ${local ? LOCAL_DB : new URL(url).host}; it is shown once:`);
    console.log(key);
  } finally {
    client.close();
  }
}

const [noun, verb, ...rest] = process.argv.slice(2);
if (noun === "keys" && verb === "create") await createKey(rest);
else fail("usage: npm run admin -- keys create --name NAME --scopes users:read,users:write [--expires-in-days N]");
