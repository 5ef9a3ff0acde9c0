import { recipientOf, type UserRow } from "./identity.ts";
import { createEmailToken } from "./email-tokens.ts";
import type { Deps } from "../http/context.ts";
import { linkWithToken } from "../lib/links.ts";
import { queueMail } from "../mail/outbox.ts";

type Recipient = Pick<UserRow, "id" | "email" | "name" | "locale">;

// The mails whose point is one single-use link. Each returns the token rows and the outbox row for
// the caller's batch, and the row to deliver after the response; the mail expires with its token.

export async function prepareConfirmation(deps: Deps, user: Recipient, now: number) {
  const { config } = deps;
  const token = await createEmailToken(deps.db, user.id, "confirm_email", config.confirmTokenTtl, now);
  const mail = await queueMail(
    deps,
    {
      ...recipientOf(user),
      template: "confirm-email",
      data: {
        appName: config.appName,
        name: user.name,
        link: linkWithToken(config.confirmUrl, token.token),
        expiresInHours: Math.round(config.confirmTokenTtl / 3600),
      },
      expiresAt: token.expiresAt,
    },
    now,
  );
  return { writes: [...token.writes, mail.write] as const, mail: mail.row };
}

export async function prepareResetLink(deps: Deps, user: Recipient, now: number) {
  const { config } = deps;
  const token = await createEmailToken(deps.db, user.id, "reset_password", config.resetTokenTtl, now);
  const mail = await queueMail(
    deps,
    {
      ...recipientOf(user),
      template: "reset-password",
      data: {
        appName: config.appName,
        name: user.name,
        link: linkWithToken(config.resetUrl, token.token),
        expiresInMinutes: Math.round(config.resetTokenTtl / 60),
      },
      expiresAt: token.expiresAt,
    },
    now,
  );
  return { writes: [...token.writes, mail.write] as const, mail: mail.row };
}
