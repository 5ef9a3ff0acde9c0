import { and, eq, lt, notLike, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { rateLimits } from "../db/schema.ts";
import { encodeHex, encodeUtf8 } from "../lib/crypto/encoding.ts";
import { AppError } from "../lib/errors.ts";

// Every limit is a counter row in the database, so it holds across isolates and locations (an
// in-memory Map would be per isolate, i.e. no limit at all on Workers). Counters ride in the
// pipelines a request makes anyway, so limits cost no extra round trip.
//
// Tokens need no counter of their own: confirm, reset and refresh tokens are 256 random bits, so a
// guess hits a live token with probability (live tokens) / 2^256, nil at any request rate; the
// per-IP budget still bounds how fast anyone can guess.
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

export function rateLimited(retryAfterMs: number): AppError {
  return new AppError("rate_limited", undefined, {
    headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
}

// Keys hold a hash, not the address, since anyone can make us count any string.
async function hashedKey(prefix: string, value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encodeUtf8(value));
  return `${prefix}:${encodeHex(new Uint8Array(digest))}`;
}

export type MailKind = "confirm" | "reset" | "already_registered";

// Per-address mail budget (no mail bombing through register/resend/forgot).
export function mailCounterKey(kind: MailKind, email: string): Promise<string> {
  return hashedKey(`mail:${kind}`, email);
}

// ---- Per client IP: a budget of requests per fixed window -------------------------------------

// Windows are aligned to multiples of their length, so the end of the current one (and with it
// Retry-After) is known without reading the row.
export function alignedWindowEnd(now: number, windowMs: number): number {
  return (Math.floor(now / windowMs) + 1) * windowMs;
}

// One IPv6 subscriber usually holds a whole /64: count the prefix, or rotating addresses would
// escape the limit.
export function ipCounterKey(ip: string | null): string {
  if (!ip) return "ip:unknown";
  // IPv4, also when written IPv4-mapped (::ffff:192.0.2.1).
  if (ip.includes(".") || !ip.includes(":")) return `ip:${ip.slice(ip.lastIndexOf(":") + 1, ip.lastIndexOf(":") + 65)}`;
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const headParts = head ? head.split(":") : [];
  const tailParts = tail ? tail.split(":") : [];
  const groups = ip.includes("::")
    ? [...headParts, ...Array<string>(Math.max(0, 8 - headParts.length - tailParts.length)).fill("0"), ...tailParts]
    : headParts;
  return `ip:${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

// Takes one request from the budget. Over the limit it writes NULL into the NOT NULL count, so the
// statement fails, and with it the transaction of the pipeline it leads: whatever the route sent
// in that pipeline (e.g. consuming a token) never takes effect.
export function takeBudgetStatement(db: Db, key: string, window: Window, now: number) {
  const end = alignedWindowEnd(now, window.windowMs);
  return db
    .insert(rateLimits)
    .values({ key, count: 1, windowEndsAt: end })
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: {
        count: sql`case when ${rateLimits.windowEndsAt} <= ${now} then 1 when ${rateLimits.count} < ${window.limit} then ${rateLimits.count} + 1 else null end`,
        windowEndsAt: sql`case when ${rateLimits.windowEndsAt} <= ${now} then ${end} else ${rateLimits.windowEndsAt} end`,
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

// ---- Per account: lock-out after consecutive failed logins ------------------------------------

export interface LockoutPolicy {
  /** Consecutive failures that start a lock-out. */
  threshold: number;
  baseMs: number;
  maxMs: number;
}

// NIST SP 800-63B: no more than 100 consecutive failures. The count stops here and every further
// failure locks for the longest window; nothing is permanent, so an attacker cannot lock an owner
// out for longer than LOGIN_LOCKOUT_MAX_SECONDS.
export const MAX_CONSECUTIVE_FAILURES = 100;

// Keyed by the normalised address, not the user row, so unknown addresses lock exactly like known
// ones and a 429 tells nothing about which accounts exist.
export function loginCounterKey(email: string): Promise<string> {
  return hashedKey("login", email);
}

/** The lock-out after `failures` consecutive failures (0 while under the threshold). */
export function lockoutMs(failures: number, policy: LockoutPolicy): number {
  if (failures < policy.threshold) return 0;
  return Math.min(policy.baseMs * 2 ** Math.min(failures - policy.threshold, 30), policy.maxMs);
}

/** When the account's lock-out ends, or null if it is not locked at `now`. */
export function lockedUntil(row: CounterRow | undefined, now: number): number | null {
  return row && row.windowEndsAt > now ? row.windowEndsAt : null;
}

// Counts the attempt as a failure before the password is checked (a success clears the row), and
// starts the lock-out when this attempt reaches the threshold. Reserving up front means that many
// parallel guesses cannot all slip through before the first failure is written. While locked it
// changes nothing. RETURNING gives this attempt's count and lock end.
export function reserveLoginAttempt(db: Db, key: string, policy: LockoutPolicy, now: number) {
  const next = sql`min(${rateLimits.count} + 1, ${MAX_CONSECUTIVE_FAILURES})`;
  const lockEnd = sql`case when ${next} >= ${policy.threshold} then ${now} + min(${policy.baseMs} * (1 << min(${next} - ${policy.threshold}, 30)), ${policy.maxMs}) else ${rateLimits.windowEndsAt} end`;
  const firstLock = lockoutMs(1, policy);
  return db
    .insert(rateLimits)
    .values({ key, count: 1, windowEndsAt: firstLock > 0 ? now + firstLock : 0 })
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: { count: next, windowEndsAt: lockEnd },
      setWhere: sql`${rateLimits.windowEndsAt} <= ${now}`,
    })
    .returning();
}

export function clearLoginFailures(db: Db, key: string) {
  return db.delete(rateLimits).where(eq(rateLimits.key, key));
}

export function lockoutPolicy(config: Pick<Config, "loginLockoutThreshold" | "loginLockoutBaseSeconds" | "loginLockoutMaxSeconds">): LockoutPolicy {
  return {
    threshold: config.loginLockoutThreshold,
    baseMs: config.loginLockoutBaseSeconds * 1000,
    maxMs: config.loginLockoutMaxSeconds * 1000,
  };
}

/**
 * The two statements that open a password check (login, change password), for the caller's first
 * batch: the lock-out state as it was, and this attempt reserved as a failure.
 */
export function loginAttemptStatements(db: Db, key: string, policy: LockoutPolicy, now: number) {
  return [readCounter(db, key), reserveLoginAttempt(db, key, policy, now)] as const;
}

/** Refuses with 429 while locked; otherwise says whether this attempt just started a lock-out. */
export function refuseIfLocked(previous: CounterRow[], reserved: CounterRow[], now: number): { lockStarted: boolean } {
  const locked = lockedUntil(previous[0], now);
  if (locked !== null || !reserved[0]) throw rateLimited((locked ?? now) - now);
  return { lockStarted: lockedUntil(reserved[0], now) !== null };
}

// Cron housekeeping: window counters (per IP, per address's mail) whose window ended are dead rows.
// Login counters stay until a success clears them: their failures are consecutive, not windowed.
export function pruneExpiredCounters(db: Db, now: number) {
  return db.delete(rateLimits).where(and(notLike(rateLimits.key, "login:%"), lt(rateLimits.windowEndsAt, now)));
}
