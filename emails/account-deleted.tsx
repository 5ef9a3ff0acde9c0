import type { Locale, RenderedMail } from "./types.ts";
import { formatTime, greet } from "./i18n.ts";
import { joinText, Layout, Paragraph, renderDocument, Small, textFooter } from "./layout.tsx";

// The last mail to an account's address: the account is gone. Its outbox row forgets the address
// once it is sent (src/mail/outbox.ts).
export interface AccountDeletedData {
  appName: string;
  name: string | null;
  /** ISO 8601 time of the deletion. */
  when: string;
  /** Deleted through the admin API, not by its owner. Absent in mails queued before it existed. */
  byAdmin?: boolean;
}

interface Copy {
  subject: (appName: string) => string;
  intro: (appName: string, when: string) => string;
  gone: string;
  notYou: string;
  byAdmin: (appName: string) => string;
}

const copy: Record<Locale, Copy> = {
  en: {
    subject: (appName) => `Your ${appName} account was deleted`,
    intro: (appName, when) => `Your ${appName} account was deleted on ${when}.`,
    gone: "Its sessions, links and personal data are erased; this is the last email we send about it.",
    notYou:
      "If you did not do this, someone knew your password. The account cannot be restored, but you can register again with this address, with a new password.",
    byAdmin: (appName) => `It was deleted by ${appName}'s administrators, not from your account. It cannot be restored.`,
  },
  es: {
    subject: (appName) => `Se eliminó tu cuenta de ${appName}`,
    intro: (appName, when) => `Tu cuenta de ${appName} se eliminó el ${when}.`,
    gone: "Sus sesiones, enlaces y datos personales se borraron; este es el último correo que enviamos sobre ella.",
    notYou:
      "Si no fuiste tú, alguien conocía tu contraseña. La cuenta no se puede recuperar, pero puedes registrarte de nuevo con esta dirección y una contraseña nueva.",
    byAdmin: (appName) => `La eliminaron los administradores de ${appName}, no se hizo desde tu cuenta. No se puede recuperar.`,
  },
  "pt-BR": {
    subject: (appName) => `Sua conta ${appName} foi excluída`,
    intro: (appName, when) => `Sua conta ${appName} foi excluída em ${when}.`,
    gone: "Suas sessões, links e dados pessoais foram apagados; este é o último e-mail que enviamos sobre ela.",
    notYou:
      "Se não foi você, alguém sabia sua senha. A conta não pode ser recuperada, mas você pode se cadastrar de novo com este endereço e uma senha nova.",
    byAdmin: (appName) => `Ela foi excluída pelos administradores de ${appName}, não a partir da sua conta. Não pode ser recuperada.`,
  },
};

export function renderAccountDeleted(data: AccountDeletedData, locale: Locale): RenderedMail {
  const t = copy[locale];
  const subject = t.subject(data.appName);
  const greeting = greet(locale, data.name);
  const intro = t.intro(data.appName, formatTime(locale, data.when));
  const after = data.byAdmin ? t.byAdmin(data.appName) : t.notYou;
  const html = renderDocument(
    <Layout appName={data.appName} locale={locale} title={subject}>
      <Paragraph>{greeting}</Paragraph>
      <Paragraph>{intro}</Paragraph>
      <Paragraph>{t.gone}</Paragraph>
      <Small>{after}</Small>
    </Layout>,
  );
  const text = joinText([greeting, intro, t.gone, after, textFooter(locale, data.appName)]);
  return { subject, html, text };
}
