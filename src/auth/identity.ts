import * as z from "zod";
import type { users } from "../db/schema.ts";
import type { Locale } from "../mail/types.ts";

export const MAX_EMAIL_LENGTH = 254;
export const MAX_PASSWORD_LENGTH = 256;

// One account per address: trimmed, NFC-normalised, compared lower-cased.
export function normalizeEmail(raw: string): string {
  return raw.trim().normalize("NFC").toLowerCase();
}

export const emailField = z
  .string()
  .max(1024)
  .transform(normalizeEmail)
  .pipe(z.email({ message: "must be an email address" }).max(MAX_EMAIL_LENGTH));

// Length is counted in code points after NFC, so "é" is one character however it was typed.
export const passwordField = z
  .string()
  .max(MAX_PASSWORD_LENGTH * 4)
  .transform((v) => v.normalize("NFC"))
  .refine((v) => [...v].length <= MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`);

export const nameField = z
  .string()
  .transform((v) => v.trim().normalize("NFC"))
  .pipe(z.string().max(100))
  .optional()
  .transform((v) => v || null);

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
