import { recipientOf, type UserRow } from "./identity.ts";
import { createEmailToken } from "./email-tokens.ts";
import type { Deps } from "../http/context.ts";
import { linkWithToken } from "../lib/links.ts";
import { queueMail } from "../mail/outbox.ts";

// A confirmation mail for `user`, ready to go into the caller's batch.
export async function prepareConfirmation(deps: Deps, user: Pick<UserRow, "id" | "email" | "name" | "locale">, now: number) {
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

