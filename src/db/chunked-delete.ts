import { inArray, sql, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { CronBudget } from "../lib/cron-budget.ts";
import type { Db } from "./client.ts";

/**
 * Rows one housekeeping statement deletes at most. A DELETE holds the database's write lock while it
 * runs, and every request that writes waits behind it; a thousand rows by rowid, found through an
 * index, take a few milliseconds, where deleting a month of audit rows at once could take seconds.
 */
export const DELETE_CHUNK = 1000;

/**
 * Deletes the rows of `table` that `where` selects, a chunk per statement (and per round trip), until
 * none are left or the budget is spent; returns how many went. `where` must be answerable from an
 * index (the statements test checks every query plan), or each chunk would read the whole table.
 */
export async function deleteInChunks(db: Db, table: SQLiteTable, where: SQL | undefined, budget: CronBudget): Promise<number> {
  let deleted = 0;
  while (budget.take()) {
    const chunk = db.select({ rowid: sql`rowid` }).from(table).where(where).limit(DELETE_CHUNK);
    const result = await db.delete(table).where(inArray(sql`rowid`, chunk));
    deleted += result.rowsAffected;
    if (result.rowsAffected < DELETE_CHUNK) break;
  }
  return deleted;
}
