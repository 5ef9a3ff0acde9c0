import type { Locale, RenderedMail } from "./types.ts";
import { greet } from "./i18n.ts";
import { ActionButton, joinText, Layout, Paragraph, renderDocument, Small, textFooter } from "./layout.tsx";

// To an address that already has an account, when another account asked to move to it. The
// requester got the same answer as for a free address; only this mailbox learns what happened.
export interface EmailInUseData {
  appName: string;
  name: string | null;
  loginUrl: string;
}

interface Copy {
  subject: (appName: string) => string;
  intro: (appName: string) => string;
  unchanged: string;
  ifYou: string;
  login: string;
}

const copy: Record<Locale, Copy> = {
  en: {
    subject: (appName) => `Someone tried to use your address for another ${appName} account`,
    intro: (appName) => `Someone asked to change the address of another ${appName} account to this one.`,
    unchanged: "This address belongs to your account, so nothing was changed and you need not do anything.",
    ifYou: "If it was you, that other account needs a different address. Your account is here:",
    login: "Log in",
  },
  es: {
    subject: (appName) => `Alguien intentó usar tu dirección para otra cuenta de ${appName}`,
    intro: (appName) => `Alguien pidió cambiar la dirección de otra cuenta de ${appName} a esta.`,
    unchanged: "Esta dirección pertenece a tu cuenta, así que no se cambió nada y no tienes que hacer nada.",
    ifYou: "Si fuiste tú, esa otra cuenta necesita otra dirección. Tu cuenta está aquí:",
    login: "Iniciar sesión",
  },
  "pt-BR": {
    subject: (appName) => `Alguém tentou usar seu endereço em outra conta ${appName}`,
    intro: (appName) => `Alguém pediu para alterar o endereço de outra conta ${appName} para este.`,
    unchanged: "Este endereço pertence à sua conta, então nada foi alterado e você não precisa fazer nada.",
    ifYou: "Se foi você, essa outra conta precisa de outro endereço. Sua conta está aqui:",
    login: "Entrar",
  },
};

export function renderEmailInUse(data: EmailInUseData, locale: Locale): RenderedMail {
  const t = copy[locale];
  const subject = t.subject(data.appName);
  const greeting = greet(locale, data.name);
  const intro = t.intro(data.appName);
  const html = renderDocument(
    <Layout appName={data.appName} locale={locale} title={subject}>
      <Paragraph>{greeting}</Paragraph>
      <Paragraph>{intro}</Paragraph>
      <Paragraph>{t.unchanged}</Paragraph>
      <Small>{t.ifYou}</Small>
      <ActionButton href={data.loginUrl} label={t.login} locale={locale} />
    </Layout>,
  );
  const text = joinText([greeting, intro, t.unchanged, `${t.ifYou}\n${data.loginUrl}`, textFooter(locale, data.appName)]);
  return { subject, html, text };
}
