import { eq } from "drizzle-orm";
import { mfaTokens, passkeys, recoveryCodes, totpFactors, users } from "../db/schema.ts";
import type { Deps, RequestInfo } from "../deps.ts";
import type { MfaChange } from "../mail/templates.ts";
import { queueMail } from "../mail/outbox.ts";
import { recordAudit } from "./audit.ts";
import { commitEvents } from "../webhooks/messages.ts";
import { mfaDisabled, mfaEnabled } from "./events.ts";
import { recipientOf, type UserRow } from "./identity.ts";

export type { MfaChange } from "../mail/templates.ts";

/**
 * The webhook event each change emits (src/auth/events.ts): `mfa.enabled` when a factor is added,
 * `mfa.disabled` when one goes, with the method; none for recovery codes.
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

const MFA_METHODS: Record<MfaChange, string> = {
  totp_enabled: "totp",
  totp_removed: "totp",
  passkey_added: "passkey",
  passkey_removed: "passkey",
  factors_reset: "all",
  recovery_codes_regenerated: "recovery_codes",
  recovery_code_used: "recovery_codes",
};

/**
 * The one place every change of a user's second factors passes: the audit row, the mail to the
 * owner and the webhook event, for the caller's batch (so they happen exactly when the change does;
 * place `writes` after the change). Commit it with commitEvents / commitWithEvents and `events`;
 * `mail` is delivered after the response.
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
  const type = MFA_WEBHOOK_EVENTS[change];
  const event = type === null ? null : (type === "mfa.enabled" ? mfaEnabled : mfaDisabled)(db, user.id, MFA_METHODS[change], now);
  const writes = [recordAudit(db, change, user.id, client, now, options.actor ?? null), mail.write, ...(event ? [event.write] : [])] as const;
  return { writes, mail: mail.row, events: event ? [event] : [] };
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
  if (!user) return { reset: false as const, mail: null, deliveryIds: [] };
  const change = await mfaChangeWrites(deps, user, "factors_reset", client, now, actor === null ? {} : { actor });
  const { deliveryIds } = await commitEvents(
    deps,
    [
      db.delete(totpFactors).where(eq(totpFactors.userId, userId)),
      db.delete(passkeys).where(eq(passkeys.userId, userId)),
      db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)),
      db.delete(mfaTokens).where(eq(mfaTokens.userId, userId)),
      ...change.writes,
    ],
    change.events,
  );
  return { reset: true as const, mail: change.mail, deliveryIds };
}
