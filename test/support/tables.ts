import { sql } from "drizzle-orm";
import type { TestService } from "./service.ts";

// For erasure tests: everything the database holds, searched for what must be gone.

/** Every row of every table, as JSON text, for searching. */
export async function everyRow(s: TestService): Promise<Record<string, string>> {
  const tables = await s.deps.db.all<{ name: string }>(sql`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '%migrations%'`);
  const dump: Record<string, string> = {};
  for (const { name } of tables) dump[name] = JSON.stringify(await s.deps.db.all(sql.raw(`select * from "${name}"`)));
  return dump;
}

export function tablesContaining(dump: Record<string, string>, needle: string): string[] {
  return Object.entries(dump)
    .filter(([, rows]) => rows.toLowerCase().includes(needle.toLowerCase()))
    .map(([table]) => table);
}
