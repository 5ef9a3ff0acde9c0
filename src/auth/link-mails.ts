import { recipientOf, type UserRow } from "./identity.ts";
import { createEmailToken, voidUserTokens } from "./email-tokens.ts";
import type { Deps } from "../deps.ts";
import { generateCode, hashToken, randomId } from "../lib/crypto/tokens.ts";
import { linkWithToken } from "../lib/links.ts";
import { queueMail } from "../mail/outbox.ts";
import type { Locale } from "../lib/locale.ts";
import { emailTokens } from "../db/schema.ts";

type Recipient = Pick<UserRow, "id" | "email" | "name" | "locale">;

/** How long an unlock code lives. */
export const UNLOCK_CODE_TTL_SECONDS = 600;

// The mails whose point is one single-use token. Each returns the token rows and the outbox row for
// the caller's batch, and the row to deliver after the response; the mail expires with its token.

/** A confirmation link for an address that has pending registrations (no user exists yet). */
export async function prepareConfirmation(deps: Deps, to: { email: string; name: string | null; locale: string }, now: number) {
  const { config } = deps;
  const token = await createEmailToken(deps, { userId: null, email: to.email }, "confirm_email", config.confirmTokenTtl, now);
  const mail = await queueMail(
    deps,
    {
      userId: null,
      to: to.email,
      locale: to.locale as Locale,
      template: "confirm-email",
      data: {
        appName: config.appName,
        name: to.name,
        link: linkWithToken(config.confirmUrl, token.token),
        code: token.code,
        expiresInSeconds: config.confirmTokenTtl,
      },
      expiresAt: token.expiresAt,
    },
    now,
  );
  return { writes: [...token.writes, mail.write] as const, mail: mail.row };
}

export async function prepareResetLink(deps: Deps, user: Recipient, now: number) {
  const { config } = deps;
  const token = await createEmailToken(deps, { userId: user.id, email: user.email }, "reset_password", config.resetTokenTtl, now);
  const mail = await queueMail(
    deps,
    {
      ...recipientOf(user),
      template: "reset-password",
      data: {
        appName: config.appName,
        name: user.name,
        link: linkWithToken(config.resetUrl, token.token),
        code: token.code,
        expiresInSeconds: config.resetTokenTtl,
      },
      expiresAt: token.expiresAt,
    },
    now,
  );
  return { writes: [...token.writes, mail.write] as const, mail: mail.row };
}

/** An invitation (admin API): a single-use link to choose the first password, which also confirms the address. */
export async function prepareInvite(deps: Deps, user: Recipient, now: number) {
  const { config } = deps;
  const token = await createEmailToken(deps, { userId: user.id, email: user.email }, "reset_password", config.confirmTokenTtl, now);
  const mail = await queueMail(
    deps,
    {
      ...recipientOf(user),
      template: "invite",
      data: {
        appName: config.appName,
        name: user.name,
        link: linkWithToken(config.resetUrl, token.token),
        code: token.code,
        expiresInSeconds: config.confirmTokenTtl,
      },
      expiresAt: token.expiresAt,
    },
    now,
  );
  return { writes: [...token.writes, mail.write] as const, mail: mail.row };
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
