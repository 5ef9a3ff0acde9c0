import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { rateLimits } from "../db/schema.ts";

// Fixed-window counters in the database, so a limit holds across isolates and locations (an
// in-memory Map would be per isolate, i.e. no limit at all on Workers).
export interface Window {
  limit: number;
  windowMs: number;
}

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
    .values({ key, count: 1, windowEndsAt: now + window.windowMs })
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: {
        count: sql`case when ${rateLimits.windowEndsAt} > ${now} then ${rateLimits.count} + 1 else 1 end`,
        windowEndsAt: sql`case when ${rateLimits.windowEndsAt} > ${now} then ${rateLimits.windowEndsAt} else ${now + window.windowMs} end`,
      },
    })
    .returning();
}

export type MailKind = "confirm" | "reset" | "already_registered";

// Per-address mail budget (no mail bombing through register/resend/forgot). The key holds a hash,
// not the address, since anyone can make us count any string.
export async function mailCounterKey(kind: MailKind, email: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(email));
  return `mail:${kind}:${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
