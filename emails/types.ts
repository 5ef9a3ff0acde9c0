// What the templates need to know, owned here so emails/ imports nothing from src/. The locales are
// the ones templates are written for; src/lib/locale.ts lists what users may choose, and the type
// checker refuses a choice no template speaks.
export type Locale = "en" | "es" | "pt-BR";

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}
