import type { Locale, RenderedMail } from "./types.ts";
import { renderLinkMail, type LinkMailCopy, type LinkMailData } from "./link-mail.tsx";

// To the new address of an email change: the address changes only when this link or code is used.
export type EmailChangeConfirmData = LinkMailData & { code: string };

const copy: Record<Locale, LinkMailCopy> = {
  en: {
    subject: (appName) => `Confirm your new email address for ${appName}`,
    intro: (appName) => `You asked to use this address for your ${appName} account. Confirm it, and it becomes the address you log in with.`,
    action: "Confirm new address",
    codeIntro: "Or enter this code on the confirmation page:",
    expiry: (duration) => `The link and the code expire in ${duration}.`,
    notYou: "If you did not ask for this, ignore this email: nothing changes unless this address is confirmed.",
  },
  es: {
    subject: (appName) => `Confirma tu nueva dirección de correo para ${appName}`,
    intro: (appName) =>
      `Pediste usar esta dirección para tu cuenta de ${appName}. Confírmala y será la dirección con la que inicias sesión.`,
    action: "Confirmar nueva dirección",
    codeIntro: "O introduce este código en la página de confirmación:",
    expiry: (duration) => `El enlace y el código caducan en ${duration}.`,
    notYou: "Si no lo pediste, ignora este correo: nada cambia mientras esta dirección no se confirme.",
  },
  "pt-BR": {
    subject: (appName) => `Confirme o novo e-mail da sua conta ${appName}`,
    intro: (appName) => `Você pediu para usar este endereço na sua conta ${appName}. Confirme e ele passa a ser o endereço com que você entra.`,
    action: "Confirmar novo endereço",
    codeIntro: "Ou digite este código na página de confirmação:",
    expiry: (duration) => `O link e o código expiram em ${duration}.`,
    notYou: "Se você não pediu isso, ignore este e-mail: nada muda enquanto este endereço não for confirmado.",
  },
};

export function renderEmailChangeConfirm(data: EmailChangeConfirmData, locale: Locale): RenderedMail {
  return renderLinkMail(copy[locale], data, locale);
}
