import { createClient } from "@libsql/client/web";
import { drizzle } from "drizzle-orm/libsql/web";
import * as schema from "./schema.ts";

export type Db = ReturnType<typeof createDb>;

// The same HTTP (Hrana) client in production (Turso), locally (tools/libsql-server) and in tests.
export function createDb(url: string, authToken?: string) {
  const client = createClient({ url, authToken, intMode: "number" });
  return drizzle(client, { schema });
}
