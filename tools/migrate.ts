// Applies the drizzle-kit migrations in drizzle/ to DB_URL (+ DB_AUTH_TOKEN): the local libSQL
// server, `turso dev`, or a Turso database. Usage: DB_URL=… [DB_AUTH_TOKEN=…] npm run db:migrate
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";

export async function migrateDatabase(url: string, authToken?: string): Promise<void> {
  const client = createClient({ url, authToken });
  try {
    await migrate(drizzle(client), { migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)) });
  } finally {
    client.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.DB_URL;
  if (!url) {
    console.error("Set DB_URL (and DB_AUTH_TOKEN for Turso), e.g. DB_URL=libsql://<db>-<org>.turso.io npm run db:migrate");
    process.exit(2);
  }
  await migrateDatabase(url, process.env.DB_AUTH_TOKEN || undefined);
  console.log(`Migrations applied to ${new URL(url).host}`);
}
