import * as z from "zod/mini";
import type { users } from "../db/schema.ts";
import { normalizeEmail } from "../lib/email.ts";
import type { Locale } from "../lib/locale.ts";

export const MAX_EMAIL_LENGTH = 254;
export const MAX_PASSWORD_LENGTH = 256;

export const emailField = z.pipe(
  // A bound before normalising, so a huge input costs nothing; the real limit is checked after it.
  z.pipe(z.string().check(z.maxLength(1024, `must be at most ${MAX_EMAIL_LENGTH} characters`)), z.transform(normalizeEmail)),
  // The max needs its own message: a schema's message also covers its checks that have none.
  z.email({ message: "must be an email address" }).check(z.maxLength(MAX_EMAIL_LENGTH, `must be at most ${MAX_EMAIL_LENGTH} characters`)),
);

// Length is counted in code points after NFC, so "é" is one character however it was typed.
export const passwordField = z
  .pipe(
    z.string().check(z.maxLength(MAX_PASSWORD_LENGTH * 4, `must be at most ${MAX_PASSWORD_LENGTH} characters`)),
    z.transform((v: string) => v.normalize("NFC")),
  )
  .check(z.refine((v) => [...v].length <= MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`));

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

export const nameField = z.pipe(
  z.optional(
    z.pipe(
      z.pipe(
        z.string(),
        z.transform((v: string) => v.trim().normalize("NFC")),
      ),
      z.string().check(
        z.maxLength(100),
        z.superRefine((v, ctx) => {
          const problem = nameProblem(v);
          if (problem) ctx.addIssue({ code: "custom", message: problem });
        }),
      ),
    ),
  ),
  z.transform((v: string | undefined) => v || null),
);

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

/** Who a mail about this user goes to, in the user's language. */
export function recipientOf(user: Pick<UserRow, "id" | "email" | "locale">) {
  return { userId: user.id, to: user.email, locale: user.locale as Locale };
}
