import { inArray } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { rateLimits } from "../db/schema.ts";
import { bumpCounter, countInWindow, hashedKey, readCounter, type CounterRow } from "./counters.ts";

export const MAIL_KINDS = ["confirm", "reset", "already_registered", "unlock", "change_email"] as const;
/** change_email: mails to the new address of an email change (its confirmation, or "in use"). */
export type MailKind = (typeof MAIL_KINDS)[number];

const HOUR_MS = 3600_000;
/** At most one mail of a kind per mailbox in this long, whatever the hourly budget says. */
export const MAIL_MIN_INTERVAL_MS = 60_000;
const GMAIL_DOMAINS = new Set(["gmail.com", "googlemail.com"]);

/**
 * The mailbox an address delivers to, for budgets: `v+1@x` and `v+2@x` reach one inbox, so they
 * share one budget (and at Gmail, so do dotted spellings). Accounts still use the address as typed.
 */
export function canonicalMailbox(email: string): string {
  const at = email.lastIndexOf("@");
  if (at < 0) return email.toLowerCase();
  let local = email.slice(0, at).toLowerCase();
  let domain = email.slice(at + 1).toLowerCase();
  const plus = local.indexOf("+");
  if (plus > 0) local = local.slice(0, plus);
  if (GMAIL_DOMAINS.has(domain)) {
    local = local.replaceAll(".", "");
    domain = "gmail.com";
  }
  return `${local}@${domain}`;
}

/**
 * Per-mailbox budgets for the given kinds of mail (no mail bombing through register, resend,
 * forgot, unlock): `reads` go into the caller's first round trip; `allowed` and `count` then decide
 * with their results. A request is counted whether or not a mail goes out, so the answer and the
 * work look the same either way.
 */
export async function mailBudget(db: Db, email: string, kinds: MailKind[], perHour: number) {
  const mailbox = canonicalMailbox(email);
  const keys = await Promise.all(
    kinds.map(async (kind) => ({ hour: await hashedKey(`mail:${kind}`, mailbox), minute: await hashedKey(`mail-min:${kind}`, mailbox) })),
  );
  const reads = keys.flatMap((k) => [readCounter(db, k.hour), readCounter(db, k.minute)]);
  const keysOf = (kind: MailKind) => keys[kinds.indexOf(kind)]!;
  return {
    reads,
    /** Pass the results of `reads`, in order. */
    evaluate(results: CounterRow[][]) {
      return {
        allowed(kind: MailKind, now: number) {
          const i = kinds.indexOf(kind) * 2;
          return countInWindow(results[i]?.[0], now) < perHour && countInWindow(results[i + 1]?.[0], now) < 1;
        },
        count(kind: MailKind, now: number) {
          const k = keysOf(kind);
          return [
            bumpCounter(db, k.hour, { limit: perHour, windowMs: HOUR_MS }, now),
            bumpCounter(db, k.minute, { limit: 1, windowMs: MAIL_MIN_INTERVAL_MS }, now),
          ] as const;
        },
      };
    },
  };
}

/**
 * Every mail budget of a mailbox gone (its account was deleted: the counters name it, hashed). In an
 * array, since a bare query would be run by the `await` (drizzle's queries are thenables).
 */
export async function forgetMailbox(db: Db, email: string) {
  const mailbox = canonicalMailbox(email);
  const keys = await Promise.all(MAIL_KINDS.flatMap((kind) => [hashedKey(`mail:${kind}`, mailbox), hashedKey(`mail-min:${kind}`, mailbox)]));
  return [db.delete(rateLimits).where(inArray(rateLimits.key, keys))] as const;
}
