import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { rateLimits } from "../db/schema.ts";
import type { Window } from "./counters.ts";

// ---- Per client IP: a budget of requests per fixed window -------------------------------------

// Windows are aligned to multiples of their length, so the end of the current one (and with it
// Retry-After) is known without reading the row.
export function alignedWindowEnd(now: number, windowMs: number): number {
  return (Math.floor(now / windowMs) + 1) * windowMs;
}

function ipv6Groups(ip: string): string[] {
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const headParts = head ? head.split(":") : [];
  const tailParts = tail ? tail.split(":") : [];
  const groups = ip.includes("::")
    ? [...headParts, ...Array<string>(Math.max(0, 8 - headParts.length - tailParts.length)).fill("0"), ...tailParts]
    : headParts;
  return groups.map((g) => g.replace(/^0+(?=.)/, ""));
}

// One IPv6 subscriber usually holds a whole /64 (and a site a /48): count the prefix, or rotating
// addresses would escape the limit.
export function ipCounterKey(ip: string | null, ipv6PrefixGroups: 3 | 4 = 4): string {
  if (!ip) return "ip:unknown";
  // IPv4, also when written IPv4-mapped (::ffff:192.0.2.1).
  if (ip.includes(".") || !ip.includes(":")) return `ip:${ip.slice(ip.lastIndexOf(":") + 1, ip.lastIndexOf(":") + 65)}`;
  return `ip:${ipv6Groups(ip).slice(0, ipv6PrefixGroups).join(":")}::/${ipv6PrefixGroups * 16}`;
}

/** The budget keys of a client: its address (IPv6: /64), and for IPv6 also its /48. */
export function ipBudgetKeys(ip: string | null): string[] {
  const own = ipCounterKey(ip);
  return own.endsWith("::/64") ? [own, ipCounterKey(ip, 3)] : [own];
}

// Takes one request from the budget. Over the limit it writes NULL into the NOT NULL count, so the
// statement fails, and with it the transaction of the pipeline it leads: whatever the route sent
// in that pipeline (e.g. consuming a token) never takes effect.
export function takeBudgetStatement(db: Db, key: string, window: Window, now: number) {
  const end = alignedWindowEnd(now, window.windowMs);
  return db
    .insert(rateLimits)
    .values({ key, count: 1, windowEndsAt: end, updatedAt: now })
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: {
        count: sql`case when ${rateLimits.windowEndsAt} <= ${now} then 1 when ${rateLimits.count} < ${window.limit} then ${rateLimits.count} + 1 else null end`,
        windowEndsAt: sql`case when ${rateLimits.windowEndsAt} <= ${now} then ${end} else ${rateLimits.windowEndsAt} end`,
        updatedAt: now,
      },
    });
}

export function isBudgetExhausted(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && message.includes("NOT NULL constraint failed: rate_limits.count")) return true;
  }
  return false;
}
