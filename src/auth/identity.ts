import { sql } from "drizzle-orm";
import * as z from "zod";
import { users } from "../db/schema.ts";
import { normalizeEmail } from "../lib/email.ts";
import type { Locale } from "../lib/locale.ts";
import { AppError } from "../lib/errors.ts";
import type { MailedCredential } from "./email-tokens.ts";

export const MAX_EMAIL_LENGTH = 254;
export const MAX_PASSWORD_LENGTH = 256;

export const emailField = z
  .string()
  // A bound before normalising, so a huge input costs nothing; the real limit is checked after it.
  .max(1024, `must be at most ${MAX_EMAIL_LENGTH} characters`)
  .transform(normalizeEmail)
  // The max needs its own message: a schema's message also covers its checks that have none.
  .pipe(z.email({ message: "must be an email address" }).max(MAX_EMAIL_LENGTH, `must be at most ${MAX_EMAIL_LENGTH} characters`));

// Length is counted in code points after NFC, so "é" is one character however it was typed.
export const passwordField = z
  .string()
  .max(MAX_PASSWORD_LENGTH * 4, `must be at most ${MAX_PASSWORD_LENGTH} characters`)
  .transform((v) => v.normalize("NFC"))
  .refine((v) => [...v].length <= MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`);

// The name is mailed to addresses nobody has confirmed yet, so it must not carry a link, a phone
// number or characters that reorder the text around it: letters and combining marks of any script,
// with spaces, apostrophes (' or ’), hyphens and full stops. A full stop right before two letters
// reads as a domain ("evilbank.com"), which mail clients turn into a link.
function nameProblem(name: string): string | null {
  if (!/^[\p{L}\p{M} '\u2019.-]*$/u.test(name)) return "may contain only letters, spaces, apostrophes, hyphens and full stops";
  if (/\.\p{M}*\p{L}\p{M}*\p{L}/u.test(name)) return "must not look like a web address";
  if (name !== "" && !/\p{L}/u.test(name)) return "must contain a letter";
  return null;
}

export const nameField = z
  .string()
  .transform((v) => v.trim().normalize("NFC"))
  .pipe(
    z
      .string()
      .max(100)
      .superRefine((v, ctx) => {
        const problem = nameProblem(v);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
  )
  .optional()
  .transform((v) => v || null);

/** The 6-digit code printed beside a mailed link (or an unlock code). */
export const mailedCodeField = z.string().regex(/^[0-9]{6}$/, "must be the 6 digits from the email");

/**
 * The fields of a body that brings back a mailed credential: `token` (from the link), or `email`
 * and `code` (typed from the mail). credentialOf turns the body into one or the other.
 */
export const credentialFields = {
  token: z.string().max(4096).optional(),
  email: emailField.optional(),
  code: mailedCodeField.optional(),
};

export function credentialOf(body: { token?: string; email?: string; code?: string }): MailedCredential {
  if (body.token !== undefined && body.code === undefined) return { token: body.token };
  if (body.code !== undefined && body.email !== undefined && body.token === undefined) return { email: body.email, code: body.code };
  const [path, message] =
    body.token !== undefined
      ? ["code", "code must not come with token: send one or the other"]
      : body.code !== undefined
        ? ["email", "email is required with code"]
        : ["token", "token is required (or email and code)"];
  throw new AppError("validation_failed", undefined, { details: [{ path, message }] });
}

export type UserRow = typeof users.$inferSelect;

export function toUserJson(user: UserRow) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    roles: user.roles,
    email_confirmed: user.emailConfirmedAt !== null,
    created_at: new Date(user.createdAt).toISOString(),
  };
}

/**
 * toUserJson inside a statement over the users row, so an event written in a batch records the user
 * as the batch has them at that point (src/auth/events.ts). Times are ISO 8601 with milliseconds,
 * exactly as toISOString writes them.
 */
export const userJsonSql = sql<string>`json_object(
  'id', ${users.id},
  'email', ${users.email},
  'name', ${users.name},
  'roles', json(${users.roles}),
  'email_confirmed', json(iif(${users.emailConfirmedAt} is null, 'false', 'true')),
  'created_at', strftime('%Y-%m-%dT%H:%M:%S', ${users.createdAt} / 1000, 'unixepoch') || '.' || printf('%03d', ${users.createdAt} % 1000) || 'Z'
)`;

/** Who a mail about this user goes to, in the user's language. */
export function recipientOf(user: Pick<UserRow, "id" | "email" | "locale">) {
  return { userId: user.id, to: user.email, locale: user.locale as Locale };
}
