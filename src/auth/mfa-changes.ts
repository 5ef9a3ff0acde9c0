import { eq } from "drizzle-orm";
import { mfaTokens, passkeys, recoveryCodes, totpFactors, users } from "../db/schema.ts";
import type { Deps, RequestInfo } from "../deps.ts";
import type { MfaChange } from "../mail/templates.ts";
import { queueMail } from "../mail/outbox.ts";
import { recordAudit } from "./audit.ts";
import { recipientOf, type UserRow } from "./identity.ts";

export type { MfaChange } from "../mail/templates.ts";

/**
 * The webhook event each change will emit (issue 12, being built in parallel): `mfa.enabled` when
 * a factor is added, `mfa.disabled` when one goes. Read it in mfaChangeWrites below.
 */
export const MFA_WEBHOOK_EVENTS: Record<MfaChange, "mfa.enabled" | "mfa.disabled" | null> = {
  totp_enabled: "mfa.enabled",
  passkey_added: "mfa.enabled",
  totp_removed: "mfa.disabled",
  passkey_removed: "mfa.disabled",
  factors_reset: "mfa.disabled",
  recovery_codes_regenerated: null,
  recovery_code_used: null,
};

/**
 * The one place every change of a user's second factors passes: the audit row and the mail to the
 * owner, for the caller's batch (so they happen exactly when the change does). `mail` is delivered
 * after the response.
 */
export async function mfaChangeWrites(
  deps: Deps,
  user: Pick<UserRow, "id" | "email" | "name" | "locale">,
  change: MfaChange,
  client: RequestInfo,
  now: number,
  options: { recoveryCodesLeft?: number; actor?: string } = {},
) {
  const { db, config } = deps;
  const mail = await queueMail(
    deps,
    {
      ...recipientOf(user),
      template: "mfa-changed",
      data: {
        appName: config.appName,
        name: user.name,
        change,
        when: new Date(now).toISOString(),
        ip: client.ip,
        userAgent: client.userAgent,
        recoveryCodesLeft: options.recoveryCodesLeft ?? null,
        resetUrl: config.forgotPasswordUrl,
      },
    },
    now,
  );
  // WEBHOOKS HOOK (issue 12): add the outbound event for MFA_WEBHOOK_EVENTS[change] to `writes`
  // here, so it is written in the same batch as the change, the audit row and the mail.
  const writes = [recordAudit(db, change, user.id, client, now, options.actor ?? null), mail.write] as const;
  return { writes, mail: mail.row };
}

/**
 * Admin reset (POST /admin/v1/users/:id/mfa/reset): removes every second factor of a user —
 * authenticator app, passkeys, recovery codes, and any mfa_token or challenge in flight — in one
 * batch, audited (with the acting key) and mailed to the owner. Sessions are left alone: the owner
 * may be signed in on a device they still have. Returns false for an unknown user. The caller
 * delivers `mail` (deliverAfterResponse), or leaves it to the cron.
 */
export async function resetUserFactors(deps: Deps, userId: string, client: RequestInfo, actor: string | null, now: number) {
  const { db } = deps;
  const [user] = await db.select().from(users).where(eq(users.id, userId)).limit(1);
  if (!user) return { reset: false as const, mail: null };
  const change = await mfaChangeWrites(deps, user, "factors_reset", client, now, actor === null ? {} : { actor });
  await db.batch([
    db.delete(totpFactors).where(eq(totpFactors.userId, userId)),
    db.delete(passkeys).where(eq(passkeys.userId, userId)),
    db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)),
    db.delete(mfaTokens).where(eq(mfaTokens.userId, userId)),
    ...change.writes,
  ]);
  return { reset: true as const, mail: change.mail };
}
