import { recipientOf, type UserRow } from "./identity.ts";
import { createEmailToken, voidUserTokens } from "./email-tokens.ts";
import type { Deps } from "../deps.ts";
import { generateCode, hashToken, randomId } from "../lib/crypto/tokens.ts";
import { linkWithToken } from "../lib/links.ts";
import { queueMail } from "../mail/outbox.ts";
import type { Locale } from "../lib/locale.ts";
import { emailTokens, type EmailTokenPurpose } from "../db/schema.ts";

type Recipient = Pick<UserRow, "id" | "email" | "name" | "locale">;

/** How long an unlock code lives. */
export const UNLOCK_CODE_TTL_SECONDS = 600;

// The mails whose point is one single-use token. Each returns the token rows and the outbox row for
// the caller's batch, and the row to deliver after the response; the mail expires with its token.

/**
 * A token of `purpose` and the mail carrying its link (`url` with the token) and its code. `userId`
 * null: an address with pending registrations, where no user exists yet.
 */
async function prepareLinkMail(
  deps: Deps,
  to: { userId: string | null; email: string; name: string | null; locale: string },
  purpose: EmailTokenPurpose,
  template: "confirm-email" | "reset-password" | "invite",
  url: string,
  ttlSeconds: number,
  now: number,
) {
  const { config } = deps;
  const token = await createEmailToken(deps, { userId: to.userId, email: to.email }, purpose, ttlSeconds, now);
  const mail = await queueMail(
    deps,
    {
      userId: to.userId,
      to: to.email,
      locale: to.locale as Locale,
      template,
      data: { appName: config.appName, name: to.name, link: linkWithToken(url, token.token), code: token.code, expiresInSeconds: ttlSeconds },
      expiresAt: token.expiresAt,
    },
    now,
  );
  return { writes: [...token.writes, mail.write] as const, mail: mail.row };
}

/** A confirmation link for an address that has pending registrations (no user exists yet). */
export function prepareConfirmation(deps: Deps, to: { email: string; name: string | null; locale: string }, now: number) {
  return prepareLinkMail(deps, { ...to, userId: null }, "confirm_email", "confirm-email", deps.config.confirmUrl, deps.config.confirmTokenTtl, now);
}

export function prepareResetLink(deps: Deps, user: Recipient, now: number) {
  return prepareLinkMail(deps, { ...user, userId: user.id }, "reset_password", "reset-password", deps.config.resetUrl, deps.config.resetTokenTtl, now);
}

/** An invitation (admin API): a single-use link to choose the first password, which also confirms the address. */
export function prepareInvite(deps: Deps, user: Recipient, now: number) {
  return prepareLinkMail(deps, { ...user, userId: user.id }, "reset_password", "invite", deps.config.resetUrl, deps.config.confirmTokenTtl, now);
}

/** The stored form of an unlock code: bound to its row, so equal codes of two rows never collide. */
export async function hashUnlockCode(deps: Deps, tokenId: string, code: string): Promise<string> {
  return hashToken(await deps.tokenKey(), `${tokenId}:${code}`);
}

// Six digits are guessable where 256 bits are not: each code takes MAX_TOKEN_ATTEMPTS wrong tries,
// lives ten minutes, and is only asked for together with the right password.
export async function prepareUnlockCode(deps: Deps, user: Recipient, now: number) {
  const { config, db } = deps;
  const id = randomId();
  const code = generateCode();
  const expiresAt = now + UNLOCK_CODE_TTL_SECONDS * 1000;
  const mail = await queueMail(
    deps,
    {
      ...recipientOf(user),
      template: "unlock-code",
      data: {
        appName: config.appName,
        name: user.name,
        code,
        expiresInSeconds: UNLOCK_CODE_TTL_SECONDS,
        resetUrl: config.forgotPasswordUrl,
      },
      expiresAt,
    },
    now,
  );
  const writes = [
    voidUserTokens(db, user.id, "unlock_login", now),
    db.insert(emailTokens).values({
      id,
      userId: user.id,
      purpose: "unlock_login",
      tokenHash: await hashUnlockCode(deps, id, code),
      createdAt: now,
      expiresAt,
    }),
    mail.write,
  ] as const;
  return { writes, mail: mail.row };
}
