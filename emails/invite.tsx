import type { Locale, RenderedMail } from "./types.ts";
import { renderLinkMail, type LinkMailCopy, type LinkMailData } from "./link-mail.tsx";

export type InviteData = LinkMailData;

const copy: Record<Locale, LinkMailCopy> = {
  en: {
    subject: (appName) => `You are invited to ${appName}`,
    intro: (appName) => `An account at ${appName} has been made for this address. Choose a password to start using it.`,
    action: "Choose a password",
    codeIntro: "Or enter this code on the password page:",
    expiry: (duration) => `The link and the code expire in ${duration}; once one of them is used, neither works again.`,
    notYou: "If you did not expect this, ignore this email: nothing happens without a password.",
  },
  es: {
    subject: (appName) => `Te han invitado a ${appName}`,
    intro: (appName) => `Se ha creado una cuenta en ${appName} para esta dirección. Elige una contraseña para empezar a usarla.`,
    action: "Elegir una contraseña",
    codeIntro: "O introduce este código en la página de contraseña:",
    expiry: (duration) => `El enlace y el código caducan en ${duration}; cuando se usa uno, ninguno vuelve a funcionar.`,
    notYou: "Si no lo esperabas, ignora este correo: sin contraseña no ocurre nada.",
  },
  "pt-BR": {
    subject: (appName) => `Convite para a sua conta ${appName}`,
    intro: (appName) => `Uma conta ${appName} foi criada para este endereço. Escolha uma senha para começar a usá-la.`,
    action: "Escolher uma senha",
    codeIntro: "Ou digite este código na página de senha:",
    expiry: (duration) => `O link e o código expiram em ${duration}; depois que um deles é usado, nenhum funciona de novo.`,
    notYou: "Se você não esperava isto, ignore este e-mail: nada acontece sem uma senha.",
  },
};

export function renderInvite(data: InviteData, locale: Locale): RenderedMail {
  return renderLinkMail(copy[locale], data, locale);
}
