import type { Locale, RenderedMail } from "./types.ts";
import { renderLinkMail, type LinkMailCopy, type LinkMailData } from "./link-mail.tsx";

export type ConfirmEmailData = LinkMailData;

const copy: Record<Locale, LinkMailCopy> = {
  en: {
    subject: (appName) => `Confirm your email address for ${appName}`,
    intro: (appName) => `Thanks for signing up for ${appName}. Please confirm that this is your email address.`,
    action: "Confirm email address",
    codeIntro: "Or enter this code on the confirmation page:",
    expiry: (duration) => `The link and the code expire in ${duration}.`,
    notYou: "If you did not create an account, you can ignore this email.",
  },
  es: {
    subject: (appName) => `Confirma tu correo electrónico para ${appName}`,
    intro: (appName) => `Gracias por registrarte en ${appName}. Confirma que esta es tu dirección de correo electrónico.`,
    action: "Confirmar correo electrónico",
    codeIntro: "O introduce este código en la página de confirmación:",
    expiry: (duration) => `El enlace y el código caducan en ${duration}.`,
    notYou: "Si no creaste una cuenta, puedes ignorar este correo.",
  },
  "pt-BR": {
    subject: (appName) => `Confirme o e-mail da sua conta ${appName}`,
    intro: (appName) => `Obrigado por criar sua conta ${appName}. Confirme que este é o seu endereço de e-mail.`,
    action: "Confirmar e-mail",
    codeIntro: "Ou digite este código na página de confirmação:",
    expiry: (duration) => `O link e o código expiram em ${duration}.`,
    notYou: "Se você não criou uma conta, pode ignorar este e-mail.",
  },
};

export function renderConfirmEmail(data: ConfirmEmailData, locale: Locale): RenderedMail {
  return renderLinkMail(copy[locale], data, locale);
}
