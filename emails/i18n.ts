import type { Locale } from "./types.ts";

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

const UNITS = [
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
] as const;

/**
 * A lifetime given in seconds, in the largest unit that counts at least two of them: "30 seconds",
 * "90 seconds", "30 minutes", "24 hours", "2 days" (never "0 minutes"). Rounded down, so a mail never
 * promises more time than there is. The unit is spelled out and pluralised by the runtime's ICU data.
 */
export function formatDuration(locale: Locale, seconds: number): string {
  const [unit, size] = UNITS.find(([, size]) => seconds >= 2 * size) ?? ["second", 1];
  return new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "long" }).format(Math.floor(seconds / size));
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
    automated: (appName) => `${appName}: esta é uma mensagem automática. As respostas não são lidas.`,
  },
};

export function sharedCopy(locale: Locale): SharedCopy {
  return shared[locale];
}
