import { and, eq, gte, lt, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { rateLimits } from "../db/schema.ts";
import { sha256Hex } from "../lib/crypto/encoding.ts";
import { bumpCounter, countInWindow, rateLimited, readCounter, type CounterRow } from "./counters.ts";
import { ipCounterKey } from "./ip-budget.ts";

// Two tiers guard every password check (login, change password, confirmation proofs):
// - fast, per address and client network: consecutive failures lock that client out for a while
//   (even with the right password), so one client cannot guess quickly;
// - slow, per address across all clients: past a daily number of failures the right password also
//   needs a code mailed to the owner, so many clients cannot guess slowly either.
// Neither can keep the owner out: a client the attacker does not use is never locked, and past the
// daily limit the owner's mailbox lets them in.

export interface LockoutPolicy {
  /** Consecutive failures that start a lock-out. */
  threshold: number;
  baseMs: number;
  maxMs: number;
}

// NIST SP 800-63B: no more than 100 consecutive failures. The count stops here and every further
// failure locks for the longest window; nothing is permanent.
export const MAX_CONSECUTIVE_FAILURES = 100;
export const DAY_MS = 24 * 3600_000;

/** The lock-out after `failures` consecutive failures (0 while under the threshold). */
export function lockoutMs(failures: number, policy: LockoutPolicy): number {
  if (failures < policy.threshold) return 0;
  return Math.min(policy.baseMs * 2 ** Math.min(failures - policy.threshold, 30), policy.maxMs);
}

export function lockoutPolicy(
  config: Pick<Config, "loginLockoutThreshold" | "loginLockoutBaseSeconds" | "loginLockoutMaxSeconds">,
): LockoutPolicy {
  return {
    threshold: config.loginLockoutThreshold,
    baseMs: config.loginLockoutBaseSeconds * 1000,
    maxMs: config.loginLockoutMaxSeconds * 1000,
  };
}

// Counts the attempt as a failure before the password is checked (a success clears the row), and
// starts the lock-out when this attempt reaches the threshold. Reserving up front means that many
// parallel guesses cannot all slip through before the first failure is written. While locked it
// changes nothing. RETURNING gives this attempt's count and lock end.
function reserveAttempt(db: Db, key: string, policy: LockoutPolicy, now: number) {
  const next = sql`min(${rateLimits.count} + 1, ${MAX_CONSECUTIVE_FAILURES})`;
  const lockEnd = sql`case when ${next} >= ${policy.threshold} then ${now} + min(${policy.baseMs} * (1 << min(${next} - ${policy.threshold}, 30)), ${policy.maxMs}) else ${rateLimits.windowEndsAt} end`;
  const firstLock = lockoutMs(1, policy);
  return db
    .insert(rateLimits)
    .values({ key, count: 1, windowEndsAt: firstLock > 0 ? now + firstLock : 0, updatedAt: now })
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: { count: next, windowEndsAt: lockEnd, updatedAt: now },
      setWhere: sql`${rateLimits.windowEndsAt} <= ${now}`,
    })
    .returning();
}

function lockedUntil(row: CounterRow | undefined, now: number): number | null {
  return row && row.windowEndsAt > now ? row.windowEndsAt : null;
}

function secondsText(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 120) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

/** The guard of one address as seen from one client. */
export async function passwordAttemptGuard(db: Db, config: Config, email: string, ip: string | null) {
  const address = await sha256Hex(email);
  const network = (await sha256Hex(ipCounterKey(ip))).slice(0, 16);
  const fastKey = `login:${address}:${network}`;
  const dayKey = `login-day:${address}`;
  const policy = lockoutPolicy(config);
  const day = { limit: config.loginFailuresPerDay, windowMs: DAY_MS };

  return {
    /**
     * For the caller's first round trip: this client's lock-out state as it was, this attempt
     * reserved as a failure, and the address's failures today.
     */
    statements(now: number) {
      return [readCounter(db, fastKey), reserveAttempt(db, fastKey, policy, now), readCounter(db, dayKey)] as const;
    },
    /** Refuses with 429 while this client is locked out; otherwise what the results say. */
    check(results: readonly [CounterRow[], CounterRow[], CounterRow[]], now: number) {
      const [previous, reserved, today] = results;
      const locked = lockedUntil(previous[0], now);
      if (locked !== null || !reserved[0]) {
        const wait = (locked ?? now) - now;
        throw rateLimited(wait, `Too many failed attempts for this account from your network. Try again in ${secondsText(wait)}.`);
      }
      return {
        lockStarted: lockedUntil(reserved[0], now) !== null,
        /** Past the daily limit the right password alone is not enough (an unlock code is mailed). */
        unlockRequired: countInWindow(today[0], now) >= day.limit,
      };
    },
    /** The writes of a wrong password (this client's failure is already reserved). */
    failed(now: number) {
      return [bumpCounter(db, dayKey, day, now)] as const;
    },
    /** The writes of a wrong proof where nothing was reserved up front (confirmation). */
    failedUnreserved(now: number) {
      return [reserveAttempt(db, fastKey, policy, now), bumpCounter(db, dayKey, day, now)] as const;
    },
    /** The right password: this client's reserved failure is taken back. */
    succeeded() {
      return db.delete(rateLimits).where(eq(rateLimits.key, fastKey));
    },
    /**
     * The right password of a login that goes on to a second factor: only this attempt's
     * reservation is taken back (its count, and a lock-out it started), so earlier failures — wrong
     * codes — stay counted however often the password is right. If another attempt has counted
     * since, nothing is taken back (the safe side).
     */
    released(results: readonly [CounterRow[], CounterRow[]]) {
      const [previous, reserved] = results;
      const before = previous[0];
      const after = reserved[0]!;
      const unchanged = and(eq(rateLimits.key, fastKey), eq(rateLimits.count, after.count), eq(rateLimits.windowEndsAt, after.windowEndsAt));
      return before
        ? db.update(rateLimits).set({ count: before.count, windowEndsAt: before.windowEndsAt, updatedAt: before.updatedAt }).where(unchanged)
        : db.delete(rateLimits).where(unchanged);
    },
    /** Both tiers cleared for every client (unlock code used, password reset). */
    clearAll() {
      // Every fast-tier key of the address shares the prefix `login:<address>:`; ';' sorts right
      // after ':', so the range is exactly those keys and uses the primary key's index.
      return [
        db.delete(rateLimits).where(and(gte(rateLimits.key, `login:${address}:`), lt(rateLimits.key, `login:${address};`))),
        db.delete(rateLimits).where(eq(rateLimits.key, dayKey)),
      ] as const;
    },
  };
}

export type PasswordAttemptGuard = Awaited<ReturnType<typeof passwordAttemptGuard>>;
