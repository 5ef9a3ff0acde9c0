import { parseAccept } from "hono/utils/accept";

/** The languages a user may choose; every one must have its templates in emails/. */
export const LOCALES = ["en", "es", "pt-BR"] as const;
export type Locale = (typeof LOCALES)[number];

// Bounds the work done on a client-supplied header.
const MAX_ACCEPT_LANGUAGE_ENTRIES = 20;

/**
 * The user's language: an explicitly requested locale wins when supported, then the best supported
 * Accept-Language entry by quality (hono's parser), then English. "pt-BR" and plain "pt" mean
 * Brazilian Portuguese; any other Portuguese variant falls through.
 */
export function chooseLocale(requested?: string | null, acceptLanguage?: string | null): Locale {
  const fromRequest = requested ? matchLocale(requested) : null;
  if (fromRequest) return fromRequest;
  for (const { type, q } of parseAccept(acceptLanguage ?? "").slice(0, MAX_ACCEPT_LANGUAGE_ENTRIES)) {
    const locale = q > 0 ? matchLocale(type) : null;
    if (locale) return locale;
  }
  return "en";
}

function matchLocale(tag: string): Locale | null {
  const lower = tag.trim().toLowerCase();
  if (lower === "pt-br" || lower === "pt") return "pt-BR";
  if (lower === "es" || lower.startsWith("es-")) return "es";
  if (lower === "en" || lower.startsWith("en-")) return "en";
  return null;
}
