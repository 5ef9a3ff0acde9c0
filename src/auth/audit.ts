import type { Db } from "../db/client.ts";
import { auditEvents } from "../db/schema.ts";
import type { RequestInfo } from "../http/context.ts";
import { randomId } from "../lib/crypto/tokens.ts";

export type AuditType =
  | "registered"
  | "email_confirmed"
  | "login_succeeded"
  | "login_failed"
  | "refresh_reuse_detected"
  | "reset_requested"
  | "reset_completed"
  | "password_changed"
  | "logged_out"
  | "rate_limited";

// An insert for the caller's write batch; audit rows ride along with the change they describe.
export function recordAudit(db: Db, type: AuditType, userId: string | null, client: RequestInfo, now: number) {
  return db.insert(auditEvents).values({ id: randomId(), userId, type, ip: client.ip, userAgent: client.userAgent, createdAt: now });
}
