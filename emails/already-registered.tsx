import type { Locale, RenderedMail } from "./types.ts";
import { greet } from "./i18n.ts";
import { ActionButton, joinText, Layout, Paragraph, renderDocument, Small, textFooter } from "./layout.tsx";

export interface AlreadyRegisteredData {
  appName: string;
  name: string | null;
  loginUrl: string;
  resetUrl: string;
}

interface Copy {
  subject: (appName: string) => string;
  intro: (appName: string) => string;
  ifYou: string;
  login: string;
  forgot: string;
  reset: string;
  notYou: string;
}

const copy: Record<Locale, Copy> = {
  en: {
    subject: (appName) => `Someone tried to sign up for ${appName} with your email`,
    intro: (appName) => `Someone tried to sign up for ${appName} with this email address, but it already has an account.`,
    ifYou: "If it was you, log in to your existing account:",
    login: "Log in",
    forgot: "Forgot your password? Reset it here:",
    reset: "Reset password",
    notYou: "If it was not you, ignore this email. Nothing has changed in your account.",
  },
  es: {
    subject: (appName) => `Alguien intentó registrarse en ${appName} con tu correo`,
    intro: (appName) =>
      `Alguien intentó crear una cuenta de ${appName} con esta dirección de correo, pero ya existe una cuenta con ella.`,
    ifYou: "Si fuiste tú, inicia sesión en tu cuenta:",
    login: "Iniciar sesión",
    forgot: "¿Olvidaste tu contraseña? Restablécela aquí:",
    reset: "Restablecer contraseña",
    notYou: "Si no fuiste tú, ignora este correo. Tu cuenta no ha cambiado.",
  },
  "pt-BR": {
    subject: (appName) => `Alguém tentou criar uma conta ${appName} com o seu e-mail`,
    intro: (appName) => `Alguém tentou criar uma conta ${appName} com este endereço de e-mail, mas ele já tem uma conta.`,
    ifYou: "Se foi você, entre na sua conta:",
    login: "Entrar",
    forgot: "Esqueceu a senha? Redefina aqui:",
    reset: "Redefinir senha",
    notYou: "Se não foi você, ignore este e-mail. Nada mudou na sua conta.",
  },
};

export function renderAlreadyRegistered(data: AlreadyRegisteredData, locale: Locale): RenderedMail {
  const t = copy[locale];
  const subject = t.subject(data.appName);
  const greeting = greet(locale, data.name);
  const intro = t.intro(data.appName);
  const html = renderDocument(
    <Layout appName={data.appName} locale={locale} title={subject}>
      <Paragraph>{greeting}</Paragraph>
      <Paragraph>{intro}</Paragraph>
      <Paragraph>{t.ifYou}</Paragraph>
      <ActionButton href={data.loginUrl} label={t.login} locale={locale} />
      <Paragraph>{t.forgot}</Paragraph>
      <ActionButton href={data.resetUrl} label={t.reset} locale={locale} />
      <Small>{t.notYou}</Small>
    </Layout>,
  );
  const text = joinText([
    greeting,
    intro,
    `${t.ifYou}\n${data.loginUrl}`,
    `${t.forgot}\n${data.resetUrl}`,
    t.notYou,
    textFooter(locale, data.appName),
  ]);
  return { subject, html, text };
}
