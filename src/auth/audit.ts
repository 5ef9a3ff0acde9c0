import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { auditEvents } from "../db/schema.ts";
import type { RequestInfo } from "../deps.ts";
import type { MfaChange } from "../mail/templates.ts";
import { randomId } from "../lib/crypto/tokens.ts";

export type AuditType =
  | "registered"
  | "email_confirmed"
  | "confirm_failed"
  | "login_succeeded"
  | "login_failed"
  | "unlock_required"
  | "unlocked"
  | "refresh_reuse_detected"
  | "reset_requested"
  | "reset_completed"
  | "password_changed"
  | "logged_out"
  | "rate_limited"
  | "admin_user_invited"
  | "admin_user_updated"
  | "admin_user_disabled"
  | "admin_user_enabled"
  | "admin_sessions_revoked"
  | "admin_suppression_lifted"
  | "admin_key_created"
  | "admin_key_revoked"
  | "admin_webhook_endpoint_created"
  | "admin_webhook_endpoint_updated"
  | "admin_webhook_secret_rotated"
  | "admin_webhook_endpoint_deleted"
  | "admin_webhook_replayed"
  // Second factors (src/auth/mfa-changes.ts for the changes)
  | "mfa_required"
  | "mfa_enrollment_required"
  | "mfa_failed"
  | "passkey_login_failed"
  | "totp_enrolled"
  | MfaChange
  | "code_failed"
  | "email_change_requested"
  | "email_changed"
  | "email_change_cancelled"
  | "email_change_reverted"
  | "session_ended"
  | "account_deleted"
  | "admin_user_deleted";

// An insert for the caller's write batch; audit rows ride along with the change they describe.
export function recordAudit(db: Db, type: AuditType, userId: string | null, client: RequestInfo, now: number, actor: string | null = null) {
  return db.insert(auditEvents).values({ id: randomId(), userId, type, ip: client.ip, userAgent: client.userAgent, actor, createdAt: now });
}

/** The same insert, made only when `condition` holds when the batch reaches it. */
export function recordAuditIf(db: Db, type: AuditType, userId: string | null, client: RequestInfo, now: number, condition: SQL, actor: string | null = null) {
  const row = { id: randomId(), userId, type, ip: client.ip, userAgent: client.userAgent, actor, createdAt: now };
  return db.insert(auditEvents).select(
    db
      .select({
        id: sql<string>`${row.id}`.as("id"),
        userId: sql<string | null>`${row.userId}`.as("user_id"),
        type: sql<string>`${row.type}`.as("type"),
        ip: sql<string | null>`${row.ip}`.as("ip"),
        userAgent: sql<string | null>`${row.userAgent}`.as("user_agent"),
        actor: sql<string | null>`${row.actor}`.as("actor"),
        createdAt: sql<number>`${row.createdAt}`.as("created_at"),
      })
      .from(sql`(select 1)`)
      .where(condition),
  );
}
