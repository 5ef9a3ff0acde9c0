import type { Locale, RenderedMail } from "./types.ts";
import { renderLinkMail, type LinkMailCopy, type LinkMailData } from "./link-mail.tsx";

export type ResetPasswordData = LinkMailData;

const copy: Record<Locale, LinkMailCopy> = {
  en: {
    subject: (appName) => `Reset your ${appName} password`,
    intro: (appName) => `We received a request to reset the password of your ${appName} account.`,
    action: "Choose a new password",
    codeIntro: "Or enter this code on the reset page:",
    expiry: (duration) => `The link and the code expire in ${duration}; once one of them is used, neither works again.`,
    notYou: "If you did not ask for this, ignore this email: your password stays the same.",
  },
  es: {
    subject: (appName) => `Restablece tu contraseña de ${appName}`,
    intro: (appName) => `Recibimos una solicitud para restablecer la contraseña de tu cuenta de ${appName}.`,
    action: "Elegir una nueva contraseña",
    codeIntro: "O introduce este código en la página de restablecimiento:",
    expiry: (duration) => `El enlace y el código caducan en ${duration}; cuando se usa uno, ninguno vuelve a funcionar.`,
    notYou: "Si no lo solicitaste, ignora este correo: tu contraseña no cambiará.",
  },
  "pt-BR": {
    subject: (appName) => `Redefina a senha da sua conta ${appName}`,
    intro: (appName) => `Recebemos um pedido para redefinir a senha da sua conta ${appName}.`,
    action: "Escolher uma nova senha",
    codeIntro: "Ou digite este código na página de redefinição:",
    expiry: (duration) => `O link e o código expiram em ${duration}; depois que um deles é usado, nenhum funciona de novo.`,
    notYou: "Se você não fez este pedido, ignore este e-mail: sua senha continua a mesma.",
  },
};

export function renderResetPassword(data: ResetPasswordData, locale: Locale): RenderedMail {
  return renderLinkMail(copy[locale], data, locale);
}
