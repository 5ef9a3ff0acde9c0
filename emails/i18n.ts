import type { Locale } from "../src/mail/types.ts";

export const LOCALES = ["en", "es", "pt-BR"] as const satisfies readonly Locale[];

// Bounds the work done on a client-supplied header.
const MAX_ACCEPT_LANGUAGE_ENTRIES = 20;

/**
 * Picks the mail locale: an explicitly requested locale wins when supported, then the best
 * supported Accept-Language entry by quality, then English.
 * "pt-BR" and plain "pt" mean Brazilian Portuguese; any other Portuguese variant falls through.
 */
export function resolveLocale(requested?: string | null, acceptLanguage?: string | null): Locale {
  const fromRequest = requested ? matchLocale(requested) : null;
  if (fromRequest) return fromRequest;
  for (const tag of rankAcceptLanguage(acceptLanguage ?? "")) {
    const locale = matchLocale(tag);
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

function rankAcceptLanguage(header: string): string[] {
  const entries = header.split(",").slice(0, MAX_ACCEPT_LANGUAGE_ENTRIES).flatMap((part, index) => {
    const [tag = "", ...params] = part.split(";").map((piece) => piece.trim());
    const quality = parseQuality(params);
    return tag && quality > 0 ? [{ tag, quality, index }] : [];
  });
  entries.sort((a, b) => b.quality - a.quality || a.index - b.index);
  return entries.map((entry) => entry.tag);
}

function parseQuality(params: string[]): number {
  const q = params.find((param) => param.toLowerCase().startsWith("q="));
  if (q === undefined) return 1;
  const value = Number(q.slice(2));
  return Number.isFinite(value) && value >= 0 && value <= 1 ? value : 0;
}

/** The name as it may appear in a greeting, or null when there is nothing usable. */
export function displayName(name: string | null): string | null {
  const collapsed = name?.replace(/\s+/g, " ").trim() ?? "";
  return collapsed === "" ? null : collapsed;
}

const greetings: Record<Locale, { named: (name: string) => string; anonymous: string }> = {
  en: { named: (name) => `Hi ${name},`, anonymous: "Hi," },
  es: { named: (name) => `Hola, ${name}:`, anonymous: "Hola:" },
  "pt-BR": { named: (name) => `Olá, ${name},`, anonymous: "Olá," },
};

export function greet(locale: Locale, name: string | null): string {
  const shown = displayName(name);
  const greeting = greetings[locale];
  return shown === null ? greeting.anonymous : greeting.named(shown);
}

/** "24 hours", "24 horas", "1 minuto": the unit spelled out and pluralised by the runtime's ICU data. */
export function formatDuration(locale: Locale, amount: number, unit: "hour" | "minute"): string {
  return new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "long" }).format(amount);
}

/** A readable UTC time for an ISO timestamp; the raw input if it does not parse. */
export function formatTime(locale: Locale, iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "long", timeZone: "UTC" }).format(date);
}

interface SharedCopy {
  linkFallback: string;
  automated: (appName: string) => string;
}

const shared: Record<Locale, SharedCopy> = {
  en: {
    linkFallback: "If the button does not work, copy this link into your browser:",
    automated: (appName) => `This is an automated message from ${appName}. Replies are not read.`,
  },
  es: {
    linkFallback: "Si el botón no funciona, copia este enlace en tu navegador:",
    automated: (appName) => `Este es un mensaje automático de ${appName}. Las respuestas no se leen.`,
  },
  "pt-BR": {
    linkFallback: "Se o botão não funcionar, copie este link no seu navegador:",
    automated: (appName) => `Esta é uma mensagem automática de ${appName}. As respostas não são lidas.`,
  },
};

export function sharedCopy(locale: Locale): SharedCopy {
  return shared[locale];
}
