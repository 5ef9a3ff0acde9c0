import type { Locale, RenderedMail } from "../src/mail/types.ts";
import { formatDuration, greet } from "./i18n.ts";
import { ActionButton, joinText, Layout, Paragraph, renderDocument, Small, textFooter } from "./layout.tsx";

export interface ConfirmEmailData {
  appName: string;
  name: string | null;
  link: string;
  expiresInHours: number;
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
    subject: (appName) => `Confirm your email address for ${appName}`,
    intro: (appName) => `Thanks for signing up for ${appName}. Please confirm that this is your email address.`,
    action: "Confirm email address",
    expiry: (duration) => `This link expires in ${duration}.`,
    notYou: "If you did not create an account, you can ignore this email.",
  },
  es: {
    subject: (appName) => `Confirma tu correo electrónico para ${appName}`,
    intro: (appName) => `Gracias por registrarte en ${appName}. Confirma que esta es tu dirección de correo electrónico.`,
    action: "Confirmar correo electrónico",
    expiry: (duration) => `Este enlace caduca en ${duration}.`,
    notYou: "Si no creaste una cuenta, puedes ignorar este correo.",
  },
  "pt-BR": {
    subject: (appName) => `Confirme seu e-mail no ${appName}`,
    intro: (appName) => `Obrigado por se cadastrar no ${appName}. Confirme que este é o seu endereço de e-mail.`,
    action: "Confirmar e-mail",
    expiry: (duration) => `Este link expira em ${duration}.`,
    notYou: "Se você não criou uma conta, pode ignorar este e-mail.",
  },
};

export function renderConfirmEmail(data: ConfirmEmailData, locale: Locale): RenderedMail {
  const t = copy[locale];
  const subject = t.subject(data.appName);
  const greeting = greet(locale, data.name);
  const intro = t.intro(data.appName);
  const expiry = t.expiry(formatDuration(locale, data.expiresInHours, "hour"));
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
