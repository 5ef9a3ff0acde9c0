import type { Locale, RenderedMail } from "./types.ts";
import { formatDuration, greet } from "./i18n.ts";
import { Code, joinText, Layout, Paragraph, renderDocument, Small, textFooter } from "./layout.tsx";

export interface UnlockCodeData {
  appName: string;
  name: string | null;
  /** Six digits, typed at login together with the password. */
  code: string;
  /** The code's lifetime. */
  expiresInSeconds: number;
  resetUrl: string;
}

interface Copy {
  subject: (appName: string) => string;
  intro: (appName: string) => string;
  instruction: string;
  expiry: (duration: string) => string;
  notYou: string;
}

const copy: Record<Locale, Copy> = {
  en: {
    subject: (appName) => `Your ${appName} unlock code`,
    intro: (appName) =>
      `Someone has tried many wrong passwords for your ${appName} account today, so we ask for this code together with your password.`,
    instruction: "Enter this code when you log in:",
    expiry: (duration) => `The code expires in ${duration} and works only once.`,
    notYou: "If you did not just try to log in, someone else typed your password: reset it now.",
  },
  es: {
    subject: (appName) => `Tu código de desbloqueo de ${appName}`,
    intro: (appName) =>
      `Hoy se han probado muchas contraseñas incorrectas en tu cuenta de ${appName}, así que pedimos este código junto con tu contraseña.`,
    instruction: "Introduce este código al iniciar sesión:",
    expiry: (duration) => `El código caduca en ${duration} y solo funciona una vez.`,
    notYou: "Si no acabas de intentar iniciar sesión, alguien más escribió tu contraseña: restablécela ahora.",
  },
  "pt-BR": {
    subject: (appName) => `Código de desbloqueio da sua conta ${appName}`,
    intro: (appName) =>
      `Hoje foram tentadas muitas senhas erradas na sua conta ${appName}, então pedimos este código junto com sua senha.`,
    instruction: "Digite este código ao entrar:",
    expiry: (duration) => `O código expira em ${duration} e só funciona uma vez.`,
    notYou: "Se você não acabou de tentar entrar, outra pessoa digitou sua senha: redefina-a agora.",
  },
};

export function renderUnlockCode(data: UnlockCodeData, locale: Locale): RenderedMail {
  const c = copy[locale];
  const subject = c.subject(data.appName);
  const greeting = greet(locale, data.name);
  const intro = c.intro(data.appName);
  const expiry = c.expiry(formatDuration(locale, data.expiresInSeconds));

  const html = renderDocument(
    <Layout appName={data.appName} locale={locale} title={subject}>
      <Paragraph>{greeting}</Paragraph>
      <Paragraph>{intro}</Paragraph>
      <Paragraph>{c.instruction}</Paragraph>
      <Code value={data.code} />
      <Small>{expiry}</Small>
      <Small>
        {c.notYou} <a href={data.resetUrl}>{data.resetUrl}</a>
      </Small>
    </Layout>,
  );
  const text = joinText([greeting, intro, `${c.instruction}\n${data.code}`, expiry, `${c.notYou}\n${data.resetUrl}`, textFooter(locale, data.appName)]);
  return { subject, html, text };
}
