import type { Locale, RenderedMail } from "./types.ts";
import { formatDuration } from "./i18n.ts";
import { renderLinkMail, type LinkMailCopy } from "./link-mail.tsx";

export interface InviteData {
  appName: string;
  name: string | null;
  link: string;
  /** The link's lifetime. */
  expiresInSeconds: number;
}

const copy: Record<Locale, LinkMailCopy> = {
  en: {
    subject: (appName) => `You are invited to ${appName}`,
    intro: (appName) => `An account at ${appName} has been made for this address. Choose a password to start using it.`,
    action: "Choose a password",
    expiry: (duration) => `This link expires in ${duration} and works only once.`,
    notYou: "If you did not expect this, ignore this email: nothing happens without a password.",
  },
  es: {
    subject: (appName) => `Te han invitado a ${appName}`,
    intro: (appName) => `Se ha creado una cuenta en ${appName} para esta dirección. Elige una contraseña para empezar a usarla.`,
    action: "Elegir una contraseña",
    expiry: (duration) => `Este enlace caduca en ${duration} y solo funciona una vez.`,
    notYou: "Si no lo esperabas, ignora este correo: sin contraseña no ocurre nada.",
  },
  "pt-BR": {
    subject: (appName) => `Convite para a sua conta ${appName}`,
    intro: (appName) => `Uma conta ${appName} foi criada para este endereço. Escolha uma senha para começar a usá-la.`,
    action: "Escolher uma senha",
    expiry: (duration) => `Este link expira em ${duration} e só funciona uma vez.`,
    notYou: "Se você não esperava isto, ignore este e-mail: nada acontece sem uma senha.",
  },
};

export function renderInvite(data: InviteData, locale: Locale): RenderedMail {
  return renderLinkMail(copy[locale], data, formatDuration(locale, data.expiresInSeconds), locale);
}
