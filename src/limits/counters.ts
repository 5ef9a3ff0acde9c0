import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { rateLimits } from "../db/schema.ts";
import { sha256Hex } from "../lib/crypto/encoding.ts";
import { AppError } from "../lib/errors.ts";

// Every limit is a counter row in the database, so it holds across isolates and locations (an
// in-memory Map would be per isolate, i.e. no limit at all on Workers). Counters ride in the
// pipelines a request makes anyway, so limits cost no extra round trip.
export interface Window {
  limit: number;
  windowMs: number;
}

export type CounterRow = typeof rateLimits.$inferSelect;

export function readCounter(db: Db, key: string) {
  return db.select().from(rateLimits).where(eq(rateLimits.key, key)).limit(1);
}

export function countInWindow(row: { count: number; windowEndsAt: number } | undefined, now: number): number {
  return row && row.windowEndsAt > now ? row.count : 0;
}

// Adds one hit; a window that has ended starts again at 1.
export function bumpCounter(db: Db, key: string, window: Window, now: number) {
  return db
    .insert(rateLimits)
    .values({ key, count: 1, windowEndsAt: now + window.windowMs, updatedAt: now })
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: {
        count: sql`case when ${rateLimits.windowEndsAt} > ${now} then ${rateLimits.count} + 1 else 1 end`,
        windowEndsAt: sql`case when ${rateLimits.windowEndsAt} > ${now} then ${rateLimits.windowEndsAt} else ${now + window.windowMs} end`,
        updatedAt: now,
      },
    })
    .returning();
}

export function rateLimited(retryAfterMs: number, message?: string): AppError {
  return new AppError("rate_limited", message, {
    headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
}

// Keys hold a hash, not the address, since anyone can make us count any string.
export async function hashedKey(prefix: string, value: string): Promise<string> {
  return `${prefix}:${await sha256Hex(value)}`;
}
