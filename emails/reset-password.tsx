import type { Locale, RenderedMail } from "./types.ts";
import { formatDuration } from "./i18n.ts";
import { renderLinkMail, type LinkMailCopy } from "./link-mail.tsx";

export interface ResetPasswordData {
  appName: string;
  name: string | null;
  link: string;
  /** The link's lifetime. */
  expiresInSeconds: number;
}

const copy: Record<Locale, LinkMailCopy> = {
  en: {
    subject: (appName) => `Reset your ${appName} password`,
    intro: (appName) => `We received a request to reset the password of your ${appName} account.`,
    action: "Choose a new password",
    expiry: (duration) => `This link expires in ${duration} and works only once.`,
    notYou: "If you did not ask for this, ignore this email: your password stays the same.",
  },
  es: {
    subject: (appName) => `Restablece tu contraseña de ${appName}`,
    intro: (appName) => `Recibimos una solicitud para restablecer la contraseña de tu cuenta de ${appName}.`,
    action: "Elegir una nueva contraseña",
    expiry: (duration) => `Este enlace caduca en ${duration} y solo funciona una vez.`,
    notYou: "Si no lo solicitaste, ignora este correo: tu contraseña no cambiará.",
  },
  "pt-BR": {
    subject: (appName) => `Redefina a senha da sua conta ${appName}`,
    intro: (appName) => `Recebemos um pedido para redefinir a senha da sua conta ${appName}.`,
    action: "Escolher uma nova senha",
    expiry: (duration) => `Este link expira em ${duration} e só funciona uma vez.`,
    notYou: "Se você não fez este pedido, ignore este e-mail: sua senha continua a mesma.",
  },
};

export function renderResetPassword(data: ResetPasswordData, locale: Locale): RenderedMail {
  return renderLinkMail(copy[locale], data, formatDuration(locale, data.expiresInSeconds), locale);
}
