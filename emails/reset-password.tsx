import type { Locale, RenderedMail } from "../src/mail/types.ts";
import { formatDuration, greet } from "./i18n.ts";
import { ActionButton, joinText, Layout, Paragraph, renderDocument, Small, textFooter } from "./layout.tsx";

export interface ResetPasswordData {
  appName: string;
  name: string | null;
  link: string;
  expiresInMinutes: number;
}

interface Copy {
  subject: (appName: string) => string;
  intro: (appName: string) => string;
  action: string;
  expiry: (duration: string) => string;
  notYou: string;
}

const copy: Record<Locale, Copy> = {
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
    subject: (appName) => `Redefina sua senha do ${appName}`,
    intro: (appName) => `Recebemos um pedido para redefinir a senha da sua conta no ${appName}.`,
    action: "Escolher uma nova senha",
    expiry: (duration) => `Este link expira em ${duration} e só funciona uma vez.`,
    notYou: "Se você não fez este pedido, ignore este e-mail: sua senha continua a mesma.",
  },
};

export function renderResetPassword(data: ResetPasswordData, locale: Locale): RenderedMail {
  const t = copy[locale];
  const subject = t.subject(data.appName);
  const greeting = greet(locale, data.name);
  const intro = t.intro(data.appName);
  const expiry = t.expiry(formatDuration(locale, data.expiresInMinutes, "minute"));
  const html = renderDocument(
    <Layout appName={data.appName} locale={locale} title={subject}>
      <Paragraph>{greeting}</Paragraph>
      <Paragraph>{intro}</Paragraph>
      <ActionButton href={data.link} label={t.action} locale={locale} />
      <Small>{expiry}</Small>
      <Small>{t.notYou}</Small>
    </Layout>,
  );
  const text = joinText([greeting, intro, `${t.action}:\n${data.link}`, expiry, t.notYou, textFooter(locale, data.appName)]);
  return { subject, html, text };
}
